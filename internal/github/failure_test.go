package github

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// mustNotRun fails the test if the stage is called: bad input must stop before the cluster.
func mustNotRun(t *testing.T) frontend.StageFunc {
	return func(context.Context, *rest.Config, config.Config, engine.Logger) (*summary.Result, error) {
		t.Error("stage called despite bad input")
		return nil, errors.New("unreachable")
	}
}

func TestRunBadInput(t *testing.T) {
	tests := []struct {
		name      string
		inputs    map[string]string
		wantInput string // the InputError's Input
		wantError string // the annotation line
	}{
		{"no stage", map[string]string{}, "stage",
			`::error title=mlcanary::invalid stage "": allowed: ` + config.StageNames},
		{"stage out of range", map[string]string{"INPUT_STAGE": "Blue_150"}, "stage",
			`::error title=mlcanary::invalid stage "Blue_150": allowed: ` + config.StageNames},
		{"dry-run not a boolean", map[string]string{"INPUT_STAGE": "Blue_0", "INPUT_DRY-RUN": "yes"}, "dry-run",
			`::error title=mlcanary::invalid dry-run "yes": allowed: true or false`},
		{"image and image-repo", map[string]string{"INPUT_STAGE": "Blue_0", "INPUT_IMAGE": "m:1", "INPUT_IMAGE_REPO": "r/m", "INPUT_IMAGE_TAG": "2"}, "image",
			`::error title=mlcanary::invalid image "m:1": allowed: either image or image-repo plus image-tag, not both`},
		{"Blue_0 without image", map[string]string{"INPUT_STAGE": "Blue_0"}, "image", "::error title=mlcanary::invalid image"},
		{"bad replicas", map[string]string{"INPUT_STAGE": "Blue_100", "INPUT_REPLICAS": "0"}, "replicas", "::error title=mlcanary::invalid replicas"},
		{"gateway with two slashes", map[string]string{"INPUT_STAGE": "Blue_100", "INPUT_GATEWAY": "istio-system/public/gw"}, "gateway",
			`::error title=mlcanary::invalid gateway "istio-system/public/gw": allowed: a Gateway name (a DNS-1123 label, e.g. mlmodel-gateway) that mlcanary creates in the namespace, or NAMESPACE/NAME of an existing Gateway to bind to`},
		{"gateway in upper case", map[string]string{"INPUT_STAGE": "Blue_100", "INPUT_GATEWAY": "Istio-System/public-gateway"}, "gateway", "::error title=mlcanary::invalid gateway"},
		{"gateway mesh", map[string]string{"INPUT_STAGE": "Blue_100", "INPUT_GATEWAY": "mesh"}, "gateway", "::error title=mlcanary::invalid gateway \"mesh\""},
		{"no kubeconfig anywhere", map[string]string{"INPUT_STAGE": "Rollback", "INPUT_KUBECONFIG": ""}, "kubeconfig",
			"::error title=mlcanary::invalid kubeconfig \"\": allowed: kubeconfig content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRunner(t, tt.inputs)
			if _, ok := tt.inputs["INPUT_KUBECONFIG"]; !ok {
				r.env["INPUT_KUBECONFIG"] = string(testKubeconfig(t))
			}
			err := r.run(mustNotRun(t))
			var in *config.InputError
			if !errors.As(err, &in) || in.Input != tt.wantInput {
				t.Fatalf("error = %v, want an InputError for %q", err, tt.wantInput)
			}
			if !strings.Contains(r.out.String(), tt.wantError) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantError, r.out.String())
			}
			if strings.Count(r.out.String(), "::error") != 1 {
				t.Errorf("want exactly one error annotation:\n%s", r.out.String())
			}
			if got := readFile(t, r.output) + readFile(t, r.summary); got != "" {
				t.Errorf("bad input wrote runner files: %q", got)
			}
			if tt.wantInput != "kubeconfig" {
				assertMaskedFirst(t, r.out.String())
			}
		})
	}
}

// A failing stage still reports what holds, and the failure is one annotation, not an input error.
// The engine's errors begin with the stage's name (engine.Client.Stage); the front end prints them
// as they are, never naming the stage again.
func TestRunStageFails(t *testing.T) {
	r := newRunner(t, map[string]string{"INPUT_STAGE": "Blue_100", "INPUT_KUBECONFIG": string(testKubeconfig(t))})
	err := r.run(func(context.Context, *rest.Config, config.Config, engine.Logger) (*summary.Result, error) {
		return &summary.Result{Stage: "Blue_50", Weights: summary.Weights{Green: 50, Blue: 50}},
			errors.New("Blue_100: deployment abtesting/model-blue not ready after 10m0s\n0/1 replicas available")
	})
	var in *config.InputError
	if err == nil || errors.As(err, &in) {
		t.Fatalf("error = %v, want a stage failure", err)
	}
	stdout := r.out.String()
	// One line (the newline shown escaped), named by the stage once, as the CLI and the task print it.
	want := "::error title=mlcanary::Blue_100: deployment abtesting/model-blue not ready after 10m0s\\n0/1 replicas available\n"
	if !strings.HasSuffix(stdout, want) {
		t.Errorf("stdout should end with the annotation %q:\n%s", want, stdout)
	}
	assertMaskedFirst(t, stdout)
	if got := parseOutputs(t, readFile(t, r.output)); got["stage"] != "Blue_50" || got["blue-weight"] != "50" {
		t.Errorf("outputs after a failed stage should say what holds: %v", got)
	}
	if sum := readFile(t, r.summary); !strings.Contains(sum, "> [!CAUTION]\n> Blue_100: deployment abtesting/model-blue not ready after 10m0s\\\\n0/1 replicas available\n") {
		t.Errorf("summary lacks the failure:\n%s", sum)
	}
}

// Without the input, the files of a KUBECONFIG exported by an earlier step are used — and masked.
func TestRunKubeconfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "aks.yaml")
	if err := os.WriteFile(path, testKubeconfig(t), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, map[string]string{"INPUT_STAGE": "Green_100",
		"KUBECONFIG": filepath.Join(dir, "missing.yaml") + string(filepath.ListSeparator) + path})
	called := false
	err := r.run(func(_ context.Context, rc *rest.Config, _ config.Config, _ engine.Logger) (*summary.Result, error) {
		called = true
		if rc.Host != "https://cluster.example:6443" {
			t.Errorf("host = %q", rc.Host)
		}
		return &summary.Result{Stage: "Green_100", Weights: summary.Weights{Green: 100}}, nil
	})
	if err != nil || !called {
		t.Fatalf("Run: %v (stage called: %v)\n%s", err, called, r.out.String())
	}
	assertMaskedFirst(t, r.out.String())
}

// A kubeconfig input that does not parse is masked line by line before its error is printed.
func TestRunUnparsableKubeconfig(t *testing.T) {
	bad := "apiVersion: v1\nusers: [ {name: u, user: {token: " + testToken + "}\n"
	r := newRunner(t, map[string]string{"INPUT_STAGE": "Blue_100", "INPUT_KUBECONFIG": bad})
	err := r.run(mustNotRun(t))
	var in *config.InputError
	if !errors.As(err, &in) || in.Input != "kubeconfig" || in.Value != "(not shown)" {
		t.Fatalf("error = %#v, want an InputError for kubeconfig that does not show the content", err)
	}
	lines := strings.Split(r.out.String(), "\n")
	if lines[0] != "::add-mask::apiVersion: v1" || !strings.HasPrefix(lines[1], "::add-mask::users: [") {
		t.Errorf("the content's lines were not masked first:\n%s", r.out.String())
	}
	want := `::error title=mlcanary::invalid kubeconfig "(not shown)": allowed: kubeconfig YAML (not base64)`
	if !strings.HasPrefix(lines[2], want) || strings.Contains(lines[2], testToken) || strings.Contains(lines[2], "users") {
		t.Errorf("annotation: %q, want %q… without the content", lines[2], want)
	}
}

// TestReadInputsGatewayInAnotherNamespace: the gateway input takes NAMESPACE/NAME of an existing
// Gateway, as the CLI flag does.
func TestReadInputsGatewayInAnotherNamespace(t *testing.T) {
	env := map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_GATEWAY": "istio-system/public-gateway"}
	cfg, _, err := ReadInputs(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if ns, name, external := cfg.GatewayRef(); ns != "istio-system" || name != "public-gateway" || !external {
		t.Errorf("gateway %q read as %s, %s, %v", cfg.Gateway, ns, name, external)
	}
}

// A kubeconfig input (or KUBECONFIG file) that parses but cannot be used is bad input naming it,
// never quoting its content: nothing can be sent with it.
func TestRunUnusableKubeconfig(t *testing.T) {
	for name, body := range map[string]string{
		"missing current context":   "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters: []\ncontexts: []\nusers: []\n",
		"cluster without server":    "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: " + testToken + "}\n",
		"CA data not a certificate": "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: bm90LWEtY2VydA==}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: " + testToken + "}\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := newRunner(t, map[string]string{"INPUT_STAGE": "Blue_100", "INPUT_KUBECONFIG": body})
			err := r.run(mustNotRun(t))
			var in *config.InputError
			if !errors.As(err, &in) || in.Input != "kubeconfig" || strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "bm90") {
				t.Fatalf("error = %v, want an InputError for kubeconfig that does not show the content", err)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "kubeconfig")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			r = newRunner(t, map[string]string{"INPUT_STAGE": "Blue_100", "KUBECONFIG": path})
			err = r.run(mustNotRun(t))
			if !errors.As(err, &in) || in.Input != "KUBECONFIG" || strings.Contains(err.Error(), testToken) {
				t.Fatalf("error = %v, want an InputError for KUBECONFIG", err)
			}
		})
	}
}
