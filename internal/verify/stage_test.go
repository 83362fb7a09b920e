package verify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// stageOptions binds StageInputs to a FlagSet, sets args on it and validates them.
func stageOptions(t *testing.T, hosts []string, args ...string) (*Options, error) {
	t.Helper()
	var in StageInputs
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	in.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return in.Options(hosts)
}

func TestStageInputsOptions(t *testing.T) {
	if o, err := stageOptions(t, nil, "--answer-green", "A"); o != nil || err != nil {
		t.Errorf("without a gateway: %+v, %v; want no verification", o, err)
	}
	o, err := stageOptions(t, []string{"*", "scoring.example.com"}, "--verify-gateway", "https://gw.example.com/", "--answer-blue", "B",
		"--verify-requests", "300", "--verify-tolerance", "7.5")
	if err != nil {
		t.Fatal(err)
	}
	if o.Gateway != "https://gw.example.com/" || o.Host != "scoring.example.com" || o.Answers[config.Blue] != "B" || len(o.Answers) != 1 ||
		o.Requests != 300 || o.Tolerance != 0.075 || o.Confidence != 0.99 || o.MaxErrorShare != 0.01 || o.Concurrency != 10 {
		t.Errorf("options %+v", o)
	}
	bad := []struct {
		args  []string
		input string
	}{
		{[]string{"--verify-gateway", "20.1.2.3/score"}, FlagGateway},
		{[]string{"--verify-gateway", "ftp://20.1.2.3"}, FlagGateway},
		{[]string{"--verify-gateway", "20.1.2.3?x=1"}, FlagGateway},
		{[]string{"--verify-gateway", "https://user:secret@gw.example.com"}, FlagGateway},
		{[]string{"--verify-gateway", "20.1.2.3", "--verify-requests", "-1"}, FlagRequests},
		{[]string{"--verify-gateway", "20.1.2.3", "--verify-tolerance", "100"}, FlagTolerance},
		{[]string{"--verify-gateway", "20.1.2.3", "--verify-tolerance", "0"}, FlagTolerance},
	}
	for _, b := range bad {
		_, err := stageOptions(t, nil, b.args...)
		var in *config.InputError
		if !errors.As(err, &in) || in.Input != b.input {
			t.Errorf("%v: err %v, want an input error naming %s", b.args, err, b.input)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%v: the error shows the password: %v", b.args, err)
		}
	}
}

func TestRedactedAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:s3cret@gw.example.com", "https://user:xxxxx@gw.example.com"},
		{"user:s3cret@20.1.2.3:80", "http://user:xxxxx@20.1.2.3:80"},
		{"http://us er:s3cret@gw.example.com", "(not shown: it may hold credentials)"},
		{"20.1.2.3/score", "20.1.2.3/score"},
		{"http://[::1", "http://[::1"},
	}
	for _, tt := range tests {
		if got := RedactedAddress(tt.in); got != tt.want {
			t.Errorf("RedactedAddress(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAfterStage(t *testing.T) {
	held := &summary.Result{Stage: "Blue_50", Weights: summary.Weights{Green: 50, Blue: 50}}
	dry := &summary.Result{Stage: "Blue_50", DryRun: true}
	passed := &Report{Passed: true, Gateway: "http://gw"}
	failed := &Report{Gateway: "http://gw", Problems: []string{`default route: "A" is 90.0% of answers, expected 50.0%`, "another"}}
	o := &Options{Gateway: "gw"}
	tests := []struct {
		name        string
		o           *Options
		res         *summary.Result
		stageErr    error
		report      *Report
		checkErr    error
		verified    string
		errHas      string
		markdownHas string
	}{
		{"not asked", nil, held, nil, passed, nil, "", "", ""},
		{"stage failed", o, held, errors.New("refused"), passed, nil, "", "", ""},
		{"dry run", o, dry, nil, passed, nil, "", "", "### mlcanary verify: skipped\n\ndry run"},
		{"traffic matches", o, held, nil, passed, nil, "true", "", "✅ traffic matches"},
		{"traffic differs", o, held, nil, failed, nil, "false",
			`Blue_50 holds, but traffic through http://gw does not match the live routes: default route: "A" is 90.0% of answers, expected 50.0% (and 1 more problems in the report)`,
			"❌ traffic does not match"},
		{"cannot measure", o, held, nil, nil, errors.New("reading the live routes: forbidden"), "false",
			"Blue_50 holds, but traffic could not be verified: reading the live routes: forbidden", "❌ not verified"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			out := AfterStage(t.Context(), tc.o, tc.res, tc.stageErr, func(_ context.Context, got Options) (*Report, error) {
				called = true
				if got.Gateway != tc.o.Gateway {
					t.Errorf("checked with %+v", got)
				}
				return tc.report, tc.checkErr
			})
			if want := tc.verified != ""; called != want {
				t.Errorf("check called %v, want %v", called, want)
			}
			if got := out.Verified(); got != tc.verified {
				t.Errorf("Verified() = %q, want %q", got, tc.verified)
			}
			if tc.errHas == "" && out.Err != nil || tc.errHas != "" && (out.Err == nil || out.Err.Error() != tc.errHas) {
				t.Errorf("Err = %v, want %q", out.Err, tc.errHas)
			}
			if md := out.Markdown(); tc.markdownHas == "" && md != "" || !strings.Contains(md, tc.markdownHas) {
				t.Errorf("Markdown() = %q, want it to contain %q", md, tc.markdownHas)
			}
		})
	}
}
