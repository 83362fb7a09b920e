package scoringmock

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestFailRateRefusesNonFinite: `serve-model --fail-rate NaN` started and never failed a request
// (the help says 0 to 1); NaN passes `x < 0 || x > 1`.
func TestFailRateRefusesNonFinite(t *testing.T) {
	for _, v := range []string{"NaN", "Inf", "+Inf", "1e400"} {
		in := NewInputs()
		fs := pflag.NewFlagSet("serve-model", pflag.ContinueOnError)
		in.AddFlags(fs)
		err := fs.Parse([]string{"--fail-rate=" + v})
		if err == nil {
			_, err = in.Options()
		}
		var ie *config.InputError
		if !errors.As(err, &ie) || ie.Input != "fail-rate" {
			t.Errorf("--fail-rate=%s: got %v, want an InputError naming fail-rate", v, err)
		}
	}
	in := NewInputs()
	in.FailRate = nan()
	if _, err := in.Options(); err == nil {
		t.Error("a NaN fail rate set directly is accepted")
	}
}

func nan() float64 { zero := 0.0; return zero / zero }
