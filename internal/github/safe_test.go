package github

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// hostile is an image a live Deployment can hold (the API server accepts it): every way of turning
// a log line into a workflow command or a second output record.
const hostile = "reg.io/m:1\n::warning::x\r\n::set-output name=stage::pwned\n  ::stop-commands::tok\n" +
	"##[add-mask]default\n_GitHubActionsFileCommandDelimeter_\nevil<<EOF\nx\nEOF\n100% %0A::error::y"

// commandName returns the workflow command a stdout line would run, as the runner parses it: "::"
// after leading whitespace, or the old "##[" syntax anywhere in the line.
func commandName(line string) (string, bool) {
	if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "::"); ok {
		name, _, _ := strings.Cut(rest, "::")
		name, _, _ = strings.Cut(name, " ")
		return name, true
	}
	if _, rest, ok := strings.Cut(line, "##["); ok {
		name, _, _ := strings.Cut(rest, "]")
		return name, true
	}
	return "", false
}

func TestPlainNeutralisesCommands(t *testing.T) {
	for _, in := range []string{hostile, "::warning::x", "  ::set-output name=a::b", "\t::stop-commands::t",
		"x ##[error]y", "a\r::debug::b"} {
		got := Plain(in)
		if strings.ContainsAny(got, "\r\n") {
			t.Errorf("Plain(%q) = %q, spans lines", in, got)
		}
		if name, ok := commandName(got); ok {
			t.Errorf("Plain(%q) = %q, still the command %q", in, got, name)
		}
	}
	if got := Plain("  ::warning::x"); got != ">   ::warning::x" {
		t.Errorf("Plain kept the text unreadable: %q", got)
	}
	if got := Plain("rolled out reg.io/m:1"); got != "rolled out reg.io/m:1" {
		t.Errorf("Plain changed ordinary text: %q", got)
	}
}

// A hostile image in the result and in the engine's log lines becomes neither a workflow command on
// stdout nor an extra key in GITHUB_OUTPUT.
func TestRunHostileClusterText(t *testing.T) {
	r := newRunner(t, map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_KUBECONFIG": string(testKubeconfig(t))})
	res := &summary.Result{Action: "stage", Stage: "Blue_50", Weights: summary.Weights{Green: 50, Blue: 50},
		Images: summary.Images{Green: hostile, Blue: "reg.io/m:2\r\n" + hostile}, Changes: []string{hostile}}
	err := r.run(func(_ context.Context, _ *rest.Config, _ config.Config, log engine.Logger) (*summary.Result, error) {
		log("blue runs %s", hostile)
		log(hostile)
		log("%s", "::warning::y")
		return res, nil
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, r.out.String())
	}
	allowed := map[string]bool{"add-mask": true, "group": true, "endgroup": true}
	for _, line := range strings.Split(r.out.String(), "\n") {
		if name, ok := commandName(line); ok && !allowed[name] {
			t.Errorf("cluster text became the command %q: %q", name, line)
		}
	}
	if !strings.Contains(r.out.String(), "blue runs reg.io/m:1 > ") && !strings.Contains(r.out.String(), "blue runs reg.io/m:1 ::warning::x") {
		t.Errorf("log line not kept readable:\n%s", r.out.String())
	}
	outputs := parseOutputs(t, readFile(t, r.output))
	if want := len(frontend.OutputNames()); len(outputs) != want {
		t.Errorf("GITHUB_OUTPUT has %d keys, want the %d outputs: %q", len(outputs), want, outputs)
	}
	if got, want := outputs["blue-image"], OutputValue("reg.io/m:2\r\n"+hostile); got != want || strings.ContainsAny(got, "\r\n") {
		t.Errorf("blue-image = %q, want %q", got, want)
	}
	if outputs["stage"] != "Blue_50" {
		t.Errorf("stage output overwritten: %q", outputs["stage"])
	}
}
