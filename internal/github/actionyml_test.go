package github

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/compare"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// actionYAML is the part of action.yml this front end depends on.
type actionYAML struct {
	Inputs  map[string]struct{ Description string } `json:"inputs"`
	Outputs map[string]struct{ Value string }       `json:"outputs"`
	Runs    struct {
		Using string `json:"using"`
		Steps []struct {
			ID    string            `json:"id"`
			Env   map[string]string `json:"env"`
			Run   string            `json:"run"`
			Shell string            `json:"shell"`
		} `json:"steps"`
	} `json:"runs"`
}

func readActionYAML(t *testing.T) actionYAML {
	t.Helper()
	b, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionYAML
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// Every CLI flag (and verify's, compare's and the analysis's stage inputs, and the Prometheus secrets) is an input of the same name, mapped into the env variable this package reads;
// a flag added to internal/config without an action input fails here.
func TestActionYAMLInputsMatchFlags(t *testing.T) {
	a := readActionYAML(t)
	var flags []string
	var in config.Inputs
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	in.AddFlags(fs)
	var vin verify.StageInputs
	vin.AddFlags(fs)
	var cin compare.StageInputs
	cin.AddFlags(fs)
	var ain analyze.StageInputs
	ain.AddFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) { flags = append(flags, f.Name) })
	want := append(flags, inputStage, inputKubeconfig, inputPrometheusToken, inputPrometheusPassword)
	sort.Strings(want)
	var got []string
	for name := range a.Inputs {
		got = append(got, name)
	}
	sort.Strings(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("action.yml inputs vs CLI flags (-want +got):\n%s", d)
	}
	var env map[string]string
	for _, s := range a.Runs.Steps {
		if s.ID == "run" {
			env = s.Env
		}
	}
	for _, name := range want {
		key := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if got, want := env[key], "${{ inputs."+name+" }}"; got != want {
			t.Errorf("step run: env %s = %q, want %q", key, got, want)
		}
		v := input(func(k string) (string, bool) { return "x", k == key }, name)
		if v != "x" {
			t.Errorf("input(%q) does not read %s", name, key)
		}
	}
}

// The outputs action.yml declares are the ones frontend.Run sets, each taken from the step that runs it.
func TestActionYAMLOutputs(t *testing.T) {
	a := readActionYAML(t)
	got := map[string]string{}
	for name, o := range a.Outputs {
		got[name] = o.Value
	}
	want := map[string]string{}
	for _, name := range frontend.OutputNames() {
		want[name] = "${{ steps.run.outputs." + name + " }}"
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("action.yml outputs (-want +got):\n%s", d)
	}
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q; the Go binary runs on all three runner OSes only from a composite action", a.Runs.Using)
	}
}

// The run step replaces its shell with mlcanary, so the runner's SIGINT on cancel reaches mlcanary
// (which then stops waiting and reports) rather than only bash, and the step's exit code is mlcanary's.
func TestActionYAMLExecsBinary(t *testing.T) {
	for _, s := range readActionYAML(t).Runs.Steps {
		if s.ID != "run" {
			continue
		}
		if s.Run != `exec "$MLCANARY" github-action` || s.Shell != "bash" {
			t.Errorf("step run: shell %q, run %q; want bash running exec \"$MLCANARY\" github-action", s.Shell, s.Run)
		}
		return
	}
	t.Error("action.yml has no step with id run")
}

func TestPie(t *testing.T) {
	tests := []struct {
		name string
		res  summary.Result
		want string
	}{
		{"first release", summary.Result{Stage: "Blue_0", Weights: summary.Weights{Green: 100}},
			"```mermaid\npie showData title Traffic after Blue_0\n    \"green\" : 100\n    \"blue\" : 0\n```\n"},
		{"dry run canary", summary.Result{Stage: "Blue_25", Weights: summary.Weights{Green: 75, Blue: 25}, DryRun: true},
			"```mermaid\npie showData title Traffic after Blue_25 (dry run)\n    \"green\" : 75\n    \"blue\" : 25\n```\n"},
		{"title kept on one line", summary.Result{Stage: "a:\"b\"\nc", Weights: summary.Weights{Blue: 100}},
			"```mermaid\npie showData title Traffic after a 'b' c\n    \"green\" : 0\n    \"blue\" : 100\n```\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Pie(&tt.res)); d != "" {
				t.Errorf("Pie (-want +got):\n%s", d)
			}
		})
	}
}
