package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// analyzeFlags are analyze's inputs (analyze.Inputs), the names of the objects it measures
// (config.Inputs), and the cluster's, which it reads the split's last change from.
type analyzeFlags struct {
	analyze analyze.Inputs
	kube    kubeFlags
	inputs  config.Inputs
}

// analyzeInputs are the config inputs that name what analyze measures and where it reads the
// split's last change.
var analyzeInputs = map[string]bool{
	config.FlagNamespace: true, config.FlagVirtualService: true, config.FlagApp: true,
	config.FlagGreenDeployment: true, config.FlagBlueDeployment: true,
	config.FlagGreenService: true, config.FlagBlueService: true,
	// --source loadtest sends through the header routes as they are configured.
	config.FlagHeader: true, config.FlagURIPrefix: true, config.FlagHosts: true,
}

// newAnalyzeCommand judges blue against green from Istio's metrics in Prometheus.
func newAnalyzeCommand(s Streams, env LookupEnv) *cobra.Command {
	f := &analyzeFlags{}
	cmd := &cobra.Command{
		Use:   "analyze --prometheus-url URL",
		Short: "Judge blue against green on live Istio metrics: exit 0 not worse, 1 worse or undecided",
		Long: "Count each version's requests, errors (5xx, and 503s a proxy answered for lack of a healthy upstream)\n" +
			"and slow requests (over --latency-slo) in Istio's metrics since the split last changed, and judge\n" +
			"blue against green: blue agrees when neither share exceeds green's by more than its margin\n" +
			"(--max-error-increase, --max-slow-increase, in percentage points), is degraded when one does, at\n" +
			"--confidence. It looks again every --interval until decided, for at most --window; the confidence\n" +
			"holds over all the looks. Exits 0 when blue agrees, 1 when it is degraded or still undecided.",
		Example: `  mlcanary analyze --prometheus-url http://prometheus.istio-system:9090
  mlcanary analyze --prometheus-url https://prom.example.com --prometheus-token-file /var/run/secrets/prom-token --since 2026-11-29T12:00:00Z -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			ctx := kube.WithCommand(cmd.Context(), "mlcanary analyze")
			changedAt, err := f.changedAt(ctx, env, cfg)
			if err != nil {
				return err
			}
			return runAnalyze(ctx, s.Out, f.analyze, cfg, changedAt)
		},
	}
	fs := cmd.Flags()
	f.analyze.AddFlags(fs)
	f.kube.add(fs)
	addInputs(fs, &f.inputs, analyzeInputs)
	return cmd
}

// config validates analyze's inputs, then the names.
func (f *analyzeFlags) config() (config.Config, error) {
	if err := f.analyze.Validate(); err != nil {
		return config.Config{}, err
	}
	return f.inputs.StatusConfig()
}

// changedAt is --since, or the VirtualService's change record read from the cluster, with the live
// split it reads into f.analyze.Split.
func (f *analyzeFlags) changedAt(ctx context.Context, env LookupEnv, cfg config.Config) (time.Time, error) {
	if !f.analyze.NeedsCluster() {
		return f.analyze.ChangedAt()
	}
	rc, err := f.kube.restConfig(env)
	if err != nil {
		return time.Time{}, err
	}
	c, err := engine.NewClient(rc)
	if err != nil {
		return time.Time{}, fmt.Errorf("connecting to the cluster: %w", err)
	}
	st, err := c.Status(ctx, cfg)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading when the split last changed: %w", err)
	}
	f.analyze.Split = analyze.Split{Green: st.Weights.Green, Blue: st.Weights.Blue, Mirror: st.Mirror, Known: true}
	return st.ChangedAt, nil
}

// azureCredential is the identity analyze asks Microsoft Entra ID for an Azure Monitor workspace's
// tokens: azidentity's default chain (environment, workload identity, managed identity, Azure CLI,
// Azure Developer CLI). Tests replace it.
var azureCredential = func() (azcore.TokenCredential, error) { return azidentity.NewDefaultAzureCredential(nil) }

// azureTransport carries the requests to an Azure Monitor workspace (nil: the default). Tests
// replace it to reach a stand-in.
var azureTransport http.RoundTripper

// defaultIdentity is the CLI's and the GitHub Action's identity for an Azure Monitor workspace.
func defaultIdentity() analyze.Identity {
	return analyze.Identity{Credential: azureCredential, Transport: azureTransport}
}

// runAnalyze measures and judges until decided, prints the report, and returns the failure, if any.
func runAnalyze(ctx context.Context, out io.Writer, in analyze.Inputs, cfg config.Config, changedAt time.Time) error {
	measure, settings, err := analyze.Prepare(in, cfg, changedAt, defaultIdentity())
	if err != nil {
		return err
	}
	o, err := analyze.Run(ctx, measure, settings)
	if err != nil {
		return err
	}
	r := analyze.NewReport(o)
	write := analyze.WriteText
	if in.Output == analyze.FormatJSON {
		write = analyze.WriteJSON
	}
	if err := write(out, r); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return o.Failure()
}
