package app

import (
	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// clusterFlags are what stage, plan and status share: every input, the cluster, and -o.
type clusterFlags struct {
	in     config.Inputs
	kube   kubeFlags
	output string
}

func (f *clusterFlags) add(cmd *cobra.Command) {
	f.in.AddFlags(cmd.Flags())
	f.kube.add(cmd.Flags())
	config.ChoiceVarP(cmd.Flags(), &f.output, "output", "o", "text", "output format: "+summary.Formats, "text", "json", "yaml", "markdown")
}

// config parses and validates every input for stage, the STAGE argument as typed (an empty one is
// bad input too), before anything else runs.
func (f *clusterFlags) config(stage string) (config.Config, error) {
	cfg, err := f.in.Config(stage)
	if err != nil {
		return cfg, err
	}
	return cfg, checkFormat(f.output)
}

// statusConfig is config for status, which takes no stage.
func (f *clusterFlags) statusConfig() (config.Config, error) {
	cfg, err := f.in.StatusConfig()
	if err != nil {
		return cfg, err
	}
	return cfg, checkFormat(f.output)
}

// connect loads credentials and prepares the engine; it sends no request.
func (f *clusterFlags) connect(env LookupEnv) (*engine.Client, error) {
	rc, err := f.kube.restConfig(env)
	if err != nil {
		return nil, err
	}
	return engine.NewClient(rc)
}
