package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/version"
)

func newVersionCommand(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the mlcanary version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(s.Out, "mlcanary", version.String())
			return err
		},
	}
}
