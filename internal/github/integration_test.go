package github

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// TestIntegrationActWorkflow runs action.yml under nektos/act against a real API server: Blue_0
// then Blue_50 on a namespace where a previous release left green, Blue_50 verified through a
// loopback gateway (mockups behind gatewaysim splitting 50/50), a later step reading the outputs, and a failing stage that must fail its job with an error annotation. No secret of the
// kubeconfig may appear in either log.
func TestIntegrationActWorkflow(t *testing.T) {
	root := repoRoot(t)
	act := actBinary(t, root)
	env := testenv.Start(t)
	env.StartController(t)
	kubeconfig := env.Kubeconfig(t)
	const ns, empty = "gh-canary", "gh-empty"
	createNamespace(t, env, ns)
	createNamespace(t, env, empty)
	seedGreen(t, env, ns, "registry.example/model:1")
	secrets := kubeconfigSecrets(t, kubeconfig)
	vars := []string{"MLCANARY_TEST_NAMESPACE=" + ns, "MLCANARY_TEST_EMPTY_NAMESPACE=" + empty, "MLCANARY_TEST_KUBECONFIG=" + kubeconfig,
		"MLCANARY_TEST_GATEWAY=" + loopbackGateway(t, summary.Weights{Green: 50, Blue: 50})}

	t.Run("Blue_0 then Blue_50", func(t *testing.T) {
		run := runAct(t, act, root, "canary.yml", secretsFile(t, "KUBECONFIG", kubeconfig), vars...)
		if run.err != nil || run.jobResult() != "success" {
			t.Fatalf("act: %v, job %q; log:\n%s", run.err, run.jobResult(), run.log())
		}
		for name, want := range map[string]string{
			"blue0":  "Blue_0|100|0|registry.example/model:1|registry.example/model:2|true|",
			"blue50": "Blue_50|50|50|registry.example/model:1|registry.example/model:2|true|true",
		} {
			if got := run.output(name); got != want {
				t.Errorf("outputs of step %s read by a later step = %q, want %q", name, got, want)
			}
		}
		if got := run.output("onpath"); !strings.HasPrefix(got, "mlcanary ") {
			t.Errorf("mlcanary is not on PATH for later steps: `mlcanary version` printed %q", got)
		}
		for step, pie := range map[string]string{
			"blue0":  "pie showData title Traffic after Blue_0\n    \"green\" : 100\n    \"blue\" : 0\n",
			"blue50": "pie showData title Traffic after Blue_50\n    \"green\" : 50\n    \"blue\" : 50\n",
		} {
			if sum := run.summary(step); !strings.Contains(sum, pie) || !strings.Contains(sum, "registry.example/model:2") {
				t.Errorf("step summary of %s lacks %q or the blue image:\n%s", step, pie, sum)
			}
		}
		if sum := run.summary("blue50"); !strings.Contains(sum, "### mlcanary verify: ✅ traffic matches the live routes") {
			t.Errorf("step summary of blue50 lacks the verify report:\n%s", sum)
		}
		assertNoSecret(t, run, secrets)
		t.Logf("act run of Blue_0 + Blue_50 took %s", run.took.Round(time.Millisecond))
	})

	t.Run("failing stage fails the job", func(t *testing.T) {
		run := runAct(t, act, root, "fail.yml", "", vars...)
		if run.err == nil || run.jobResult() != "failure" {
			t.Fatalf("act: %v, job %q; want a failed job; log:\n%s", run.err, run.jobResult(), run.log())
		}
		got := strings.Join(run.annotations(), "\n")
		if !strings.HasPrefix(got, "Blue_100: ") || !strings.Contains(got, "does not exist") {
			t.Errorf("error annotation = %q, want the engine's refusal of Blue_100", got)
		}
		if strings.Contains(run.log(), "reached after a failed stage") {
			t.Errorf("the step after the failed stage ran:\n%s", run.log())
		}
		assertNoSecret(t, run, secrets)
	})
}

// loopbackGateway starts the documented mockups ("New Model A" green, "New Model B" blue) behind
// a simulated gateway on 127.0.0.1 that honours the documented header routes and splits by w.
func loopbackGateway(t *testing.T, w summary.Weights) string {
	t.Helper()
	green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model A"}))
	blue := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model B"}))
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{
		Backends: map[string]string{"green": green.URL, "blue": blue.URL}, Weights: w, Seed: 7,
		Routes: []summary.HeaderRoute{
			{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
			{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"},
		},
	}))
	t.Cleanup(func() { gw.Close(); green.Close(); blue.Close() })
	return gw.URL
}

// seedGreen leaves namespace ns as a finished first release does: green serving image, no blue.
func seedGreen(t *testing.T, env *testenv.Env, ns, image string) {
	t.Helper()
	stageBlue(t, env, ns, image, "Blue_0", "Blue_100", "Blue_Green", "Green_100")
}

func createNamespace(t *testing.T, env *testenv.Env, name string) {
	t.Helper()
	if err := env.CreateNamespace(context.Background(), name); err != nil {
		t.Fatal(err)
	}
}

// repoRoot is the directory holding action.yml, which act checks out as the workspace.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "action.yml")); err != nil {
		t.Fatalf("no action.yml at the repository root: %v", err)
	}
	return dir
}
