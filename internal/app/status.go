package app

import (
	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/kube"
)

func newStatusCommand(s Streams, env LookupEnv) *cobra.Command {
	var f clusterFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the live stage, weights, images, readiness and last change",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.statusConfig()
			if err != nil {
				return err
			}
			client, err := f.connect(env)
			if err != nil {
				return err
			}
			res, err := client.Status(kube.WithCommand(cmd.Context(), "mlcanary status"), cfg)
			if err != nil {
				return err
			}
			return writeResult(s, res, f.output)
		},
	}
	f.add(cmd)
	f.in.Stdin = s.In // --pod-template -
	return cmd
}
