package app

import (
	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

func newStatusCommand(s Streams, env LookupEnv) *cobra.Command {
	var in config.Inputs
	var kf kubeFlags
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the live stage, weights, images, readiness and last change",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := in.Config("")
			if err != nil {
				return err
			}
			if err := checkFormat(output); err != nil {
				return err
			}
			client, err := connect(&kf, env)
			if err != nil {
				return err
			}
			res, err := client.Status(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return print(s, res, output)
		},
	}
	in.AddFlags(cmd.Flags())
	kf.add(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: "+summary.Formats)
	return cmd
}
