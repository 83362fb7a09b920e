package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/verify"
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

// changedAt is --since, or the VirtualService's change record read from the cluster.
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
	return st.ChangedAt, nil
}

// azureCredential is the identity analyze asks Microsoft Entra ID for an Azure Monitor workspace's
// tokens: azidentity's default chain (environment, workload identity, managed identity, Azure CLI,
// Azure Developer CLI). Tests replace it.
var azureCredential = func() (azcore.TokenCredential, error) { return azidentity.NewDefaultAzureCredential(nil) }

// prometheusAPI is the API --prometheus-url names: an Azure Monitor workspace's query endpoint
// authenticates with Microsoft Entra ID tokens for its cloud's Prometheus scope (unless a token file
// or basic auth is given), anything else with the given files.
func prometheusAPI(in analyze.Inputs) (v1.API, bool, error) {
	scope, azure := istioprom.AzureScope(in.PrometheusURL)
	if !azure || in.TokenFile != "" || in.Username != "" {
		api, err := istioprom.NewClient(in.PrometheusURL, istioprom.Auth{TokenFile: in.TokenFile, Username: in.Username, PasswordFile: in.PasswordFile})
		return api, azure, err
	}
	cred, err := azureCredential()
	if err != nil {
		return nil, true, fmt.Errorf("the Azure identity for the Azure Monitor workspace: %w", err)
	}
	api, err := istioprom.NewAzureClient(in.PrometheusURL, scope, cred, azureTransport)
	return api, true, err
}

// azureTransport carries the requests to an Azure Monitor workspace (nil: the default). Tests
// replace it to reach a stand-in.
var azureTransport http.RoundTripper

// runAnalyze measures and judges until decided, prints the report, and returns the failure, if any.
func runAnalyze(ctx context.Context, out io.Writer, in analyze.Inputs, cfg config.Config, changedAt time.Time) error {
	settings := analyze.Settings{ChangedAt: changedAt, Window: in.Window, Interval: in.Interval,
		MaxErrorIncrease: in.MaxErrorIncrease / 100, MaxSlowIncrease: in.MaxSlowIncrease / 100, Confidence: in.Confidence}
	var measure analyze.Measurer
	if in.Source == analyze.SourceLoadtest {
		p := &analyze.Paired{URL: verify.BaseURL(in.Gateway) + cfg.URIPrefix, Host: verify.ExactHost(cfg.Hosts), Header: cfg.Header,
			Rate: in.Rate, Concurrency: in.Concurrency, Timeout: max(10*time.Second, 2*in.LatencySLO),
			Interval: in.Interval, Window: in.Window, SLO: in.LatencySLO}
		measure = p.Measure
		// The load itself takes each interval; it starts now, not at the split's change.
		settings.ChangedAt = time.Now()
		settings.Sleep = func(context.Context, time.Duration) error { return nil }
	} else {
		api, azure, err := prometheusAPI(in)
		if err != nil {
			return err
		}
		version := func(v config.Version) istioprom.Version {
			return istioprom.Version{Name: string(v), Workload: cfg.Objects[v].Deployment, Service: cfg.Objects[v].Service}
		}
		base := istioprom.Config{Endpoint: istioprom.Redact(in.PrometheusURL), Namespace: cfg.Namespace,
			Blue: version(config.Blue), Green: version(config.Green), SLO: in.LatencySLO, Azure: azure}
		measure = func(ctx context.Context, start, end time.Time) (istioprom.Result, error) {
			c := base
			c.Start, c.End = start, end
			return istioprom.Measure(ctx, api, c)
		}
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
