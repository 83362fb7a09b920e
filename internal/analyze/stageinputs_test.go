package analyze

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestStageGate: the gate a stage's inputs ask for — none without analysis, observe only with
// analysis-dry-run or a dry-run stage, the on-* words as typed (any case), the secrets as values —
// and the refusals naming the stage's input, a secret's value never shown.
func TestStageGate(t *testing.T) {
	blue50 := config.Stage{Kind: config.KindBlueN, BlueWeight: 50}
	parse := func(t *testing.T, args ...string) *StageInputs {
		t.Helper()
		var in StageInputs
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		in.AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &in
	}
	url := "--prometheus-url=http://prom:9090"
	for _, c := range []struct {
		name     string
		args     []string
		stage    config.Stage
		dryRun   bool
		secrets  [2]string
		want     *Gate // nil: no gate
		badInput string
	}{
		{name: "no analysis", args: nil, stage: blue50},
		{name: "defaults", args: []string{"--analysis", url}, stage: blue50,
			want: &Gate{OnDegraded: OnDegradedRollback, OnUndecided: OnUndecidedFail}},
		{name: "Blue_100 bake, words in any case", args: []string{"--analysis", url, "--on-degraded", " HOLD", "--on-undecided=Pass"},
			stage: config.Stage{Kind: config.KindBlue100}, want: &Gate{OnDegraded: OnDegradedHold, OnUndecided: OnUndecidedPass}},
		{name: "observe only", args: []string{"--analysis", url, "--analysis-dry-run"}, stage: blue50,
			want: &Gate{OnDegraded: OnDegradedRollback, OnUndecided: OnUndecidedFail, Observe: true}},
		{name: "a dry-run stage observes only", args: []string{"--analysis", url}, stage: blue50, dryRun: true,
			want: &Gate{OnDegraded: OnDegradedRollback, OnUndecided: OnUndecidedFail, Observe: true}},
		{name: "default values given are not given", args: []string{"--window=10m", "--on-degraded=rollback"}, stage: blue50},
		{name: "a window without analysis", args: []string{"--window=5m"}, stage: blue50, badInput: "window"},
		{name: "a token without analysis", stage: blue50, secrets: [2]string{"s3cr3t", ""}, badInput: InputToken},
		{name: "token and token file", args: []string{"--analysis", url, "--prometheus-token-file=/t"}, stage: blue50,
			secrets: [2]string{"s3cr3t", ""}, badInput: "prometheus-token-file"},
		{name: "user without password", args: []string{"--analysis", url, "--prometheus-user=u"}, stage: blue50, badInput: InputPassword},
		{name: "Rollback", args: []string{"--analysis", url}, stage: config.Stage{Kind: config.KindRollback}, badInput: FlagAnalysis},
		{name: "paired load's gateway", args: []string{"--analysis", "--source=loadtest"}, stage: blue50, badInput: FlagAnalysisGateway},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := parse(t, c.args...)
			in.SetSecrets(c.secrets[0], c.secrets[1])
			g, err := in.Gate(c.stage, c.dryRun)
			var ie *config.InputError
			switch {
			case c.badInput != "":
				if !errors.As(err, &ie) || ie.Input != c.badInput || (c.secrets[0] != "" && ie.Value == c.secrets[0]) {
					t.Errorf("err %v, want bad input %s", err, c.badInput)
				}
			case err != nil:
				t.Fatalf("err %v", err)
			case (g == nil) != (c.want == nil):
				t.Fatalf("gate %+v, want %+v", g, c.want)
			case g != nil && (g.OnDegraded != c.want.OnDegraded || g.OnUndecided != c.want.OnUndecided || g.Observe != c.want.Observe):
				t.Errorf("gate %+v, want %+v", *g, *c.want)
			}
		})
	}
}
