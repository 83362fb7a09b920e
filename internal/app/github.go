package app

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/actions"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// newGitHubActionCommand is what action.yml runs: one stage, with inputs from INPUT_* variables
// instead of flags, and outputs, summary and errors in the runner's formats.
func newGitHubActionCommand(s Streams, env LookupEnv) *cobra.Command {
	return &cobra.Command{
		Use:    "github-action",
		Short:  "Run one stage as a GitHub Actions step (inputs from INPUT_* variables; used by action.yml)",
		Args:   noArgs,
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := githubAction(cmd.Context(), s, env); err != nil {
				return &reportedError{err: err}
			}
			return nil
		},
	}
}

// runGitHubAction runs the GitHub front end and returns the exit code, for callers that dispatch
// without cobra.
func runGitHubAction(ctx context.Context, s Streams, env LookupEnv) int {
	return ExitCode(githubAction(ctx, s, env))
}

// githubAction runs the front end with the engine; the error is already shown as an annotation.
func githubAction(ctx context.Context, s Streams, env LookupEnv) error {
	return actions.Run(ctx, actions.LookupEnv(env), s.Out, engineStage, engineVerify)
}

// engineStage performs a stage with the shared engine.
func engineStage(ctx context.Context, rc *rest.Config, cfg config.Config, log engine.Logger) (*summary.Result, error) {
	c, err := engine.NewClient(rc)
	if err != nil {
		return nil, err
	}
	return c.Stage(ctx, cfg, log)
}

// reportedError is a failure the GitHub front end has already shown as an ::error:: annotation.
// Its message only points there, so Run's one-line print does not repeat the error; it unwraps to
// the cause, so ExitCode still tells bad input (2) from a failed stage (1).
type reportedError struct{ err error }

var _ error = (*reportedError)(nil)

func (e *reportedError) Error() string {
	return "the GitHub Action step failed; the error annotation above says why"
}

func (e *reportedError) Unwrap() error { return e.err }
