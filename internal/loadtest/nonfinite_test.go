package loadtest

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestFloatInputsRefuseNonFinite: `loadtest --tolerance NaN --expect ...` printed "tolerance ±NaN
// points", --confidence NaN "NaN% joint Wilson intervals", --rate NaN ran unthrottled. Every
// decimal input refuses NaN, ±Inf and overflowing values, naming the flag.
func TestFloatInputsRefuseNonFinite(t *testing.T) {
	for _, flag := range []string{flagTolerance, flagConfidence, flagRate} {
		for _, v := range []string{"NaN", "Inf", "+Inf", "-Inf", "1e400"} {
			t.Run(flag+"="+v, func(t *testing.T) {
				in := NewInputs()
				fs := pflag.NewFlagSet("loadtest", pflag.ContinueOnError)
				in.AddFlags(fs)
				err := fs.Parse([]string{"--" + flag + "=" + v})
				if err == nil {
					err = in.Validate()
				}
				var ie *config.InputError
				if !errors.As(err, &ie) || ie.Input != flag {
					t.Errorf("--%s=%s: got %v, want an InputError naming %s", flag, v, err, flag)
				}
			})
		}
	}
}

// TestExpectWeightsSumFinite: each weight finite, but "A=1e308,B=1e308" sums to +Inf, so every
// expected share was 0% and a split matching the weights exactly DISAGREED (exit 1).
func TestExpectWeightsSumFinite(t *testing.T) {
	for _, s := range []string{"A=1e308,B=1e308", "A=NaN,B=1", "A=Inf,B=1", "A=1e400"} {
		if _, err := ParseExpect(s); err == nil {
			t.Errorf("ParseExpect(%q) accepted weights that are not finite or whose sum is not", s)
		}
	}
}
