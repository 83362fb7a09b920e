package app

import (
	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/azdo"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/github"
)

// newFrontEndCommands are the CI front ends, hidden: each runs one stage with inputs from the
// environment instead of flags and reports in its runner's formats. task/index.js runs
// azure-devops-task (the agent starts it with no arguments), action.yml runs github-action.
func newFrontEndCommands(s Streams, env LookupEnv, front *frontEnd) []*cobra.Command {
	azure := func() frontend.Front { return azdo.NewFront(env, s.Out) }
	gh := func() frontend.Front { return github.NewFront(env, s.Out) }
	return []*cobra.Command{
		newFrontEndCommand("azure-devops-task", "Run one stage as the MLCanary@1 Azure DevOps task (inputs from INPUT_* variables; used by task/index.js)", azure, front),
		newFrontEndCommand("github-action", "Run one stage as a GitHub Actions step (inputs from INPUT_* variables; used by action.yml)", gh, front),
	}
}

func newFrontEndCommand(use, short string, newFront func() frontend.Front, front *frontEnd) *cobra.Command {
	return &cobra.Command{
		Use:    use,
		Short:  short,
		Args:   noArgs,
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := newFront()
			front.Reporter = f // Run finishes with it: the error is printed in the runner's format
			return frontend.Run(cmd.Context(), f, f, stageEngine())
		},
	}
}
