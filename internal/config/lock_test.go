package config

import (
	"errors"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestLockInputs: --lock-timeout reads as --timeout does (a bare number is seconds) but allows 0,
// the default, which fails at once; --lock-name defaults to mlcanary. Every refusal names the input
// and says what is allowed.
func TestLockInputs(t *testing.T) {
	for _, c := range []struct {
		args    []string
		name    string
		timeout time.Duration
		bad     string
	}{
		{nil, "mlcanary", 0, ""},
		{[]string{"--lock-timeout=0"}, "mlcanary", 0, ""},
		{[]string{"--lock-timeout=90"}, "mlcanary", 90 * time.Second, ""},
		{[]string{"--lock-timeout= 10m ", "--lock-name=scoring-release"}, "scoring-release", 10 * time.Minute, ""},
		{[]string{"--lock-timeout=24h"}, "mlcanary", 24 * time.Hour, ""},
		{[]string{"--lock-timeout=-1"}, "", 0, FlagLockTimeout},
		{[]string{"--lock-timeout=-1s"}, "", 0, FlagLockTimeout},
		{[]string{"--lock-timeout=25h"}, "", 0, FlagLockTimeout},
		{[]string{"--lock-timeout=86401"}, "", 0, FlagLockTimeout},
		{[]string{"--lock-timeout=soon"}, "", 0, FlagLockTimeout},
		{[]string{"--lock-name=Release_Lock"}, "", 0, FlagLockName},
	} {
		var in Inputs
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		in.AddFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		cfg, err := in.Config("Blue_50")
		var ie *InputError
		switch {
		case c.bad != "" && (!errors.As(err, &ie) || ie.Input != c.bad || ie.Allowed == ""):
			t.Errorf("%q: %v; want an InputError naming %s", c.args, err, c.bad)
		case c.bad == "" && err != nil:
			t.Errorf("%q: %v", c.args, err)
		case c.bad == "" && (cfg.Lock.Name != c.name || cfg.Lock.Timeout != c.timeout):
			t.Errorf("%q: lock %+v; want %s, %s", c.args, cfg.Lock, c.name, c.timeout)
		}
	}
}
