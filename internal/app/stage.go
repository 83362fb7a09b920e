package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

func newStageCommand(s Streams, env LookupEnv) *cobra.Command {
	var f clusterFlags
	cmd := &cobra.Command{
		Use:   "stage STAGE",
		Short: "Perform one stage (" + config.StageNames + ") against the cluster",
		Long: "Perform one stage against the cluster: check its preconditions, create and wait before routing,\n" +
			"unroute before deleting. Re-running a stage that already holds changes nothing.\n\nStages: " + config.StageNames,
		Args: exactArgs(1, "one stage name ("+config.StageNames+")"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.config(args[0])
			if err != nil {
				return err
			}
			client, err := f.connect(env)
			if err != nil {
				return err
			}
			res, err := client.Stage(cmd.Context(), cfg, progress(s))
			if err != nil && res != nil && (f.output == "json" || f.output == "yaml") {
				_ = writeResult(s, res, f.output) // scripts see what changed before the failure
			}
			if err != nil {
				return err
			}
			if cfg.DryRun {
				return printPlan(s, res, f.output) // a dry run shows the diff, as plan does
			}
			return writeResult(s, res, f.output)
		},
	}
	f.add(cmd)
	return cmd
}

// writeResult renders res in format on Out.
func writeResult(s Streams, res *summary.Result, format string) error {
	text, err := summary.Render(res, format)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(s.Out, text)
	return err
}
