package verify

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestFloatInputsRefuseNonFinite: strconv.ParseFloat accepts "NaN", "Inf" and turns "1e400" into
// +Inf, and a range check written as `x < lo || x >= hi` lets NaN through. Every decimal input of
// verify (and the stage front ends' verify-tolerance) is bad input naming the flag, whether the
// flag refuses it or Options does; a value set directly (not through a flag) is refused too.
func TestFloatInputsRefuseNonFinite(t *testing.T) {
	for _, flag := range []string{flagTolerance, flagConfidence, flagMaxErrors} {
		for _, v := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "1e400", "-1e400"} {
			t.Run(flag+"="+v, func(t *testing.T) {
				in := NewInputs()
				fs := pflag.NewFlagSet("verify", pflag.ContinueOnError)
				in.AddFlags(fs)
				err := fs.Parse([]string{"--gateway=20.1.2.3", "--" + flag + "=" + v})
				if err == nil {
					_, err = in.Options([]string{"*"})
				}
				var ie *config.InputError
				if !errors.As(err, &ie) || ie.Input != flag {
					t.Errorf("--%s=%s: got %v, want an InputError naming %s", flag, v, err, flag)
				}
			})
		}
	}
	t.Run("stage inputs", func(t *testing.T) {
		var in StageInputs
		fs := pflag.NewFlagSet("stage", pflag.ContinueOnError)
		in.AddFlags(fs)
		err := fs.Parse([]string{"--verify-gateway=20.1.2.3", "--verify-tolerance=NaN"})
		var ie *config.InputError
		if !errors.As(err, &ie) || ie.Input != FlagTolerance {
			t.Errorf("got %v, want an InputError naming %s", err, FlagTolerance)
		}
	})
	t.Run("set directly", func(t *testing.T) {
		for _, set := range []func(*Inputs){
			func(in *Inputs) { in.Tolerance = nan() },
			func(in *Inputs) { in.Confidence = nan() },
			func(in *Inputs) { in.MaxErrors = nan() },
		} {
			in := NewInputs()
			in.Gateway = "20.1.2.3"
			set(&in)
			if err := in.Validate(); err == nil {
				t.Errorf("NaN accepted: %+v", in)
			}
		}
	})
}

func nan() float64 { zero := 0.0; return zero / zero }
