// Package actions is mlcanary's GitHub Actions front end: it reads the action's inputs from the
// step environment, masks the kubeconfig's secrets before anything else is printed, runs one stage,
// optionally verifies traffic through the gateway right after it, and reports the outcome the way
// a runner expects — step outputs in GITHUB_OUTPUT, a Markdown step
// summary in GITHUB_STEP_SUMMARY, log groups, and an ::error:: annotation on failure. The stage
// itself is injected, so tests drive this package with a fake and the command wires the engine.
package actions

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sethvargo/go-githubactions"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// LookupEnv reads one variable of the step's environment; tests pass a map instead of os.LookupEnv.
type LookupEnv func(string) (string, bool)

// StageFunc performs cfg.Stage against the cluster rc points at. The command passes the engine;
// tests pass a fake so the front end is tested without a cluster.
type StageFunc func(ctx context.Context, rc *rest.Config, cfg config.Config, log engine.Logger) (*summary.Result, error)

// VerifyFunc measures traffic through the gateway against the live routes of the cluster rc points
// at (verify.Check with the engine); tests pass a fake or the real one.
type VerifyFunc func(ctx context.Context, rc *rest.Config, cfg config.Config, o verify.Options) (*verify.Report, error)

// Run performs one stage as a GitHub Action step and, when verify-gateway is set, verifies traffic
// right after it. Workflow commands go to out (the step's stdout). The returned error has already
// been reported as an ::error:: annotation titled with the stage, whose text is the error line the
// CLI and the Azure DevOps task print too (named by the stage once, with unprintable characters
// escaped); callers only map it to an exit code (a *config.InputError means bad input,
// exit 2).
func Run(ctx context.Context, env LookupEnv, out io.Writer, stage StageFunc, check VerifyFunc) error {
	gh := githubactions.New(githubactions.WithWriter(out), githubactions.WithGetenv(getenv(env)))
	kc, err := loadKubeconfig(env)
	for _, s := range kc.secrets() { // before anything else is printed, even when loading failed
		gh.AddMask(s)
	}
	stageName := input(env, inputStage)
	if err == nil {
		err = run(ctx, gh, env, kc, stage, check)
	}
	if err != nil {
		gh.WithFieldsMap(map[string]string{"title": errorTitle(stageName)}).Errorf("%s", config.Printable(err.Error()))
	}
	return err
}

// run parses the inputs, runs the stage inside a log group, verifies traffic when asked to, and
// reports the result (also when the stage failed but the engine still said what holds).
func run(ctx context.Context, gh *githubactions.Action, env LookupEnv, kc kubeconfig, stage StageFunc, check VerifyFunc) error {
	cfg, vopts, err := ReadInputs(env)
	if err != nil {
		return err
	}
	rc, err := kc.restConfig()
	if err != nil {
		return err
	}
	gh.Group(fmt.Sprintf("mlcanary %s in namespace %s", cfg.Stage, cfg.Namespace))
	res, stageErr := stage(ctx, rc, cfg, func(format string, args ...any) { infof(gh, format, args...) })
	gh.EndGroup()
	if res == nil {
		return stageError(cfg, stageErr)
	}
	checked := afterStage(ctx, gh, vopts, res, stageErr, func(ctx context.Context, o verify.Options) (*verify.Report, error) {
		return check(ctx, rc, cfg, o)
	})
	if err := report(gh, res, stageErr, checked); err != nil {
		return fmt.Errorf("reporting to the runner: %w", err)
	}
	if stageErr != nil {
		return stageError(cfg, stageErr)
	}
	return checked.Err
}

// afterStage runs the verification verify-gateway asks for (verify.AfterStage) in its own log
// group, which ends with the verdict; the report itself goes to the step summary.
func afterStage(ctx context.Context, gh *githubactions.Action, o *verify.Options, res *summary.Result, stageErr error, check verify.Checker) verify.Outcome {
	if !verify.WillRun(o, res, stageErr) {
		return verify.AfterStage(ctx, o, res, stageErr, check)
	}
	gh.Group("mlcanary verify through " + verify.BaseURL(o.Gateway))
	defer gh.EndGroup()
	out := verify.AfterStage(ctx, o, res, stageErr, check)
	if out.Err == nil {
		gh.Infof("verified: traffic matches the live routes (report in the step summary)")
	} else {
		gh.Infof("not verified (the error annotation says why; report in the step summary)")
	}
	return out
}

// stageError names the stage in a stage's failure unless it already begins with it (the engine's
// do), so the annotation is the same line the CLI and the Azure DevOps task print; nil stays nil.
func stageError(cfg config.Config, err error) error {
	if err == nil || strings.HasPrefix(err.Error(), cfg.Stage.String()+":") || strings.HasPrefix(err.Error(), cfg.Stage.String()+" did not complete:") {
		return err
	}
	return fmt.Errorf("%s: %w", cfg.Stage, err)
}

// errorTitle names the failing step in the annotation's title.
func errorTitle(stage string) string {
	if stage = strings.TrimSpace(stage); stage == "" {
		return "mlcanary"
	}
	return "mlcanary " + stage
}

// getenv adapts a LookupEnv to the library's Getenv, which has no "unset" result.
func getenv(env LookupEnv) githubactions.GetenvFunc {
	return func(k string) string {
		v, _ := env(k)
		return v
	}
}
