package scoringmock

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// parseInputs binds Inputs to a FlagSet as `mlcanary serve-model` does and parses args.
func parseInputs(t *testing.T, args ...string) Inputs {
	t.Helper()
	var in Inputs
	fs := pflag.NewFlagSet("serve-model", pflag.ContinueOnError)
	in.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return in
}

// Every input serve-model rejects, with the whole line it prints.
func TestInputsRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative fail rate", []string{"--fail-rate", "-0.1"}, `invalid fail-rate "-0.1": allowed: a fraction from 0 to 1`},
		{"fail rate above 1", []string{"--fail-rate", "1.5"}, `invalid fail-rate "1.5": allowed: a fraction from 0 to 1`},
		{"success as failure status", []string{"--fail-status", "200"}, `invalid fail-status "200": allowed: an HTTP error status from 400 to 599`},
		{"status above 599", []string{"--fail-status", "600"}, `invalid fail-status "600": allowed: an HTTP error status from 400 to 599`},
		{"negative latency", []string{"--latency", "-1s"}, `invalid latency "-1s": allowed: a duration of 0 or more, e.g. 50ms`},
		{"negative shutdown timeout", []string{"--shutdown-timeout", "-1s"}, `invalid shutdown-timeout "-1s": allowed: a duration of 0 or more, e.g. 10s`},
		{"negative ready-after", []string{"--ready-after", "-30s"}, `invalid ready-after "-30s": allowed: a duration of 0 or more, e.g. 30s`},
		{"address without port", []string{"--addr", "localhost"}, `invalid addr "localhost": allowed: HOST:PORT or :PORT, e.g. :5001 or 127.0.0.1:5001`},
		{"empty address", []string{"--addr", ""}, `invalid addr "": allowed: HOST:PORT or :PORT, e.g. :5001 or 127.0.0.1:5001`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := parseInputs(t, tc.args...)
			_, err := in.Options()
			var ie *config.InputError
			if !errors.As(err, &ie) || err.Error() != tc.want {
				t.Errorf("err = %v, want the input error\n%s", err, tc.want)
			}
		})
	}
}

// Every default, and the bounds that are allowed.
func TestInputsOptions(t *testing.T) {
	t.Parallel()
	in := parseInputs(t)
	if want := (Inputs{Addr: ":5001", Answer: "New Model A", FailStatus: 500, Grace: 10 * time.Second, Threshold: 0.5, Labels: "negative,positive"}); in != want {
		t.Errorf("defaults %+v, want %+v", in, want)
	}
	tests := []struct {
		name string
		args []string
		want Options
	}{
		{"defaults", nil, Options{Answer: "New Model A", FailStatus: 500}},
		{"every input", []string{"--addr", "127.0.0.1:5002", "--answer", "New Model B", "--fail-rate", "1", "--fail-status", "599",
			"--latency", "50ms", "--shutdown-timeout", "0s"}, Options{Answer: "New Model B", FailRate: 1, FailStatus: 599, Latency: 50 * time.Millisecond}},
		{"lowest status", []string{"--fail-status", "400", "--addr", "[::1]:0"}, Options{Answer: "New Model A", FailStatus: 400}},
		{"slow model load", []string{"--ready-after", "30s"}, Options{Answer: "New Model A", FailStatus: 500, ReadyAfter: 30 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := parseInputs(t, tc.args...)
			got, err := in.Options()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}
