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
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// TestRunnerFilesCheckedBeforeTheStage: a step whose GITHUB_OUTPUT or GITHUB_STEP_SUMMARY is unset
// or cannot be appended to is refused by the front end's preflight, before the stage: as bad input
// (a *config.InputError naming the variable, exit 2) in one ::error:: line, with nothing sent. Were
// it checked when the outputs are set, the stage would have moved traffic and the step would fail
// (exit 1), so a retry re-runs a stage that held (break-it review of issue #13).
func TestRunnerFilesCheckedBeforeTheStage(t *testing.T) {
	cases := map[string]func(r *runner){
		"GITHUB_OUTPUT unset":       func(r *runner) { delete(r.env, "GITHUB_OUTPUT") },
		"GITHUB_STEP_SUMMARY unset": func(r *runner) { delete(r.env, "GITHUB_STEP_SUMMARY") },
		"GITHUB_OUTPUT unwritable": func(r *runner) {
			// a path under a regular file cannot be opened, also as root
			file := filepath.Join(filepath.Dir(r.output), "file")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			r.env["GITHUB_OUTPUT"] = filepath.Join(file, "output")
		},
		"GITHUB_STEP_SUMMARY a directory": func(r *runner) { r.env["GITHUB_STEP_SUMMARY"] = filepath.Dir(r.summary) },
	}
	for name, breakIt := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRunner(t, map[string]string{
				"INPUT_STAGE":      "Blue_50",
				"INPUT_NAMESPACE":  "scoring",
				"INPUT_KUBECONFIG": string(testKubeconfig(t)),
			})
			breakIt(r)
			staged := false
			err := r.run(func(context.Context, *rest.Config, config.Config, engine.Logger) (*summary.Result, error) {
				staged = true
				return &summary.Result{Action: "stage", Stage: "Blue_50", Namespace: "scoring",
					Weights: summary.Weights{Green: 50, Blue: 50}, Changed: true}, nil
			})
			if err == nil {
				t.Fatalf("no error; stdout:\n%s", r.out.String())
			}
			if staged {
				t.Errorf("the stage was performed (traffic moved) before the run refused the step: %v", err)
			}
			if strings.Count(r.out.String(), "::error") != 1 {
				t.Errorf("want one ::error:: line:\n%s", r.out.String())
			}
			var in *config.InputError
			if !errors.As(err, &in) || !strings.HasPrefix(in.Input, "GITHUB_") {
				t.Errorf("err = %v, want a *config.InputError naming the runner's variable (exit 2)", err)
			}
		})
	}
}

// TestAnnotationNamesTheStageOnce: a failed stage's one ::error:: annotation is titled "mlcanary"
// and its text is the engine's error, which begins "Blue_50: ...": the stage's name shows once, as
// nothing adds it again to an error that has it (break-it review of issue #13).
func TestAnnotationNamesTheStageOnce(t *testing.T) {
	r := newRunner(t, map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_KUBECONFIG": string(testKubeconfig(t))})
	_ = r.run(func(context.Context, *rest.Config, config.Config, engine.Logger) (*summary.Result, error) {
		return nil, errors.New("Blue_50: checking for Istio's API: cannot reach the API server")
	})
	for _, line := range strings.Split(r.out.String(), "\n") {
		if strings.HasPrefix(line, "::error") && strings.Count(line, "Blue_50") != 1 {
			t.Errorf("the annotation names the stage %d times:\n%s", strings.Count(line, "Blue_50"), line)
		}
	}
}

// TestFailedVerificationShownOnceInTheSummary: after a stage that holds but whose traffic does not
// match, the step summary says the verification's problem once, in the verification's report, not
// again in a caution box; the annotation still carries the run's error line.
func TestFailedVerificationShownOnceInTheSummary(t *testing.T) {
	r := newRunner(t, map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_VERIFY_GATEWAY": "127.0.0.1:1",
		"INPUT_KUBECONFIG": string(testKubeconfig(t))})
	problem := "default route: blue is 10%, want 50%"
	err := r.runVerify(func(context.Context, *rest.Config, config.Config, engine.Logger) (*summary.Result, error) {
		return &summary.Result{Action: "stage", Stage: "Blue_50", Weights: summary.Weights{Green: 50, Blue: 50}, Changed: true}, nil
	}, func(context.Context, *rest.Config, config.Config, verify.Options) (*verify.Report, error) {
		return &verify.Report{Gateway: "http://127.0.0.1:1", Problems: []string{problem}}, nil
	})
	if err == nil {
		t.Fatalf("no error; stdout:\n%s", r.out.String())
	}
	sum := readFile(t, r.summary)
	if n := strings.Count(sum, "blue is 10%"); n != 1 || strings.Contains(sum, "CAUTION") {
		t.Errorf("the problem %d times in the step summary (caution box: %v):\n%s", n, strings.Contains(sum, "CAUTION"), sum)
	}
	if !strings.Contains(r.out.String(), "::error title=mlcanary::") || !strings.Contains(r.out.String(), "blue is 10%") {
		t.Errorf("no annotation with the run's error:\n%s", r.out.String())
	}
}
