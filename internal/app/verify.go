package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// verifyFlags are verify's own inputs; the cluster's names come from config.Inputs.
type verifyFlags struct {
	gateway                 string
	answerGreen, answerBlue string
	requests, routeRequests int
	concurrency             int
	timeout                 time.Duration
	confidence, tolerance   float64
	maxErrors               float64
	output                  string
	kube                    kubeFlags
	inputs                  config.Inputs
}

// newVerifyCommand checks live traffic against the live routes: each header route must answer with
// its own version and the default route must split by the weights the cluster has.
func newVerifyCommand(s Streams, env LookupEnv) *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify --gateway URL",
		Short: "Check that traffic through the gateway matches the live weights and header routes",
		Long: "Read the live weights and header routes from the cluster, then send requests through the gateway:\n" +
			"each header route must answer with its own version, and the default route must split by the weights\n" +
			"(Wilson intervals at --confidence, within --tolerance points). Which answer means which version is\n" +
			"learned through the header routes unless --answer-green/--answer-blue say it. Exits 1 when traffic\n" +
			"does not match or there were too few answers to decide.",
		Example: `  mlcanary verify --gateway $GATEWAY_IP
  mlcanary verify --gateway http://20.1.2.3 --answer-green "New Model A" --answer-blue "New Model B" -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, opts, err := f.options()
			if err != nil {
				return err
			}
			rc, err := f.kube.restConfig(env)
			if err != nil {
				return err
			}
			return runVerify(kube.WithCommand(cmd.Context(), "mlcanary verify"), s.Out, rc, cfg, opts, f.output)
		},
	}
	f.bind(cmd)
	return cmd
}

func (f *verifyFlags) bind(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.gateway, "gateway", "", "the ingress gateway's address, e.g. 20.1.2.3 or http://20.1.2.3:80 (required)")
	fs.StringVar(&f.answerGreen, "answer-green", "", "the answer that identifies green (default: ask green's header route)")
	fs.StringVar(&f.answerBlue, "answer-blue", "", "the answer that identifies blue (default: ask blue's header route)")
	fs.IntVar(&f.requests, "requests", 0, "requests to the default route (0: enough to decide at --confidence and --tolerance)")
	fs.IntVar(&f.routeRequests, "route-requests", 0, "requests to each header route (0: enough to decide)")
	fs.IntVarP(&f.concurrency, "concurrency", "c", 10, "requests in flight at once")
	fs.DurationVar(&f.timeout, "request-timeout", 10*time.Second, "per-request timeout")
	fs.Float64Var(&f.confidence, "confidence", 0.99, "joint confidence of each comparison, between 0.5 and 1")
	fs.Float64Var(&f.tolerance, "tolerance", 5, "percentage points a share may be off from its weight and still agree")
	fs.Float64Var(&f.maxErrors, "max-errors", 1, "percentage of failed requests a check accepts")
	fs.StringVarP(&f.output, "output", "o", "markdown", "report format: markdown or json")
	f.kube.add(fs)
	// The names Status reads, bound exactly as the stage commands bind them. --gateway here is the
	// address requests go to, so the Istio Gateway's name (and inputs only stages use) keep defaults.
	names := pflag.NewFlagSet("names", pflag.ContinueOnError)
	f.inputs.AddFlags(names)
	names.VisitAll(func(fl *pflag.Flag) {
		if statusInputs[fl.Name] {
			fs.AddFlag(fl)
		}
	})
}

// statusInputs are the config inputs that name what Status reads.
var statusInputs = map[string]bool{
	config.FlagNamespace: true, config.FlagApp: true, config.FlagVirtualService: true,
	config.FlagGreenDeployment: true, config.FlagBlueDeployment: true,
	config.FlagGreenService: true, config.FlagBlueService: true,
	config.FlagHeader: true, config.FlagURIPrefix: true, config.FlagHosts: true,
}

// options validates the flags into the config Status needs and verify's options.
func (f *verifyFlags) options() (config.Config, verify.Options, error) {
	bad := func(input, value, allowed string) error {
		return &config.InputError{Input: input, Value: value, Allowed: allowed}
	}
	switch {
	case strings.TrimSpace(f.gateway) == "":
		return config.Config{}, verify.Options{}, bad("gateway", f.gateway, "the ingress gateway's address, e.g. 20.1.2.3")
	case f.requests < 0:
		return config.Config{}, verify.Options{}, bad("requests", fmt.Sprint(f.requests), "0 (enough to decide) or more")
	case f.routeRequests < 0:
		return config.Config{}, verify.Options{}, bad("route-requests", fmt.Sprint(f.routeRequests), "0 (enough to decide) or more")
	case f.concurrency < 1 || f.concurrency > 10000:
		return config.Config{}, verify.Options{}, bad("concurrency", fmt.Sprint(f.concurrency), "a whole number from 1 to 10000")
	case f.timeout <= 0:
		return config.Config{}, verify.Options{}, bad("request-timeout", f.timeout.String(), "a duration above 0, e.g. 10s")
	case f.confidence < 0.5 || f.confidence >= 1:
		return config.Config{}, verify.Options{}, bad("confidence", fmt.Sprint(f.confidence), "a fraction from 0.5 to below 1, e.g. 0.99")
	case f.tolerance <= 0 || f.tolerance >= 100:
		return config.Config{}, verify.Options{}, bad("tolerance", fmt.Sprint(f.tolerance), "percentage points above 0 and below 100, e.g. 5")
	case f.maxErrors < 0 || f.maxErrors > 100:
		return config.Config{}, verify.Options{}, bad("max-errors", fmt.Sprint(f.maxErrors), "a percentage from 0 to 100")
	case f.output != "markdown" && f.output != "json":
		return config.Config{}, verify.Options{}, bad("output", f.output, "markdown or json")
	}
	if !verify.GatewayAddress(f.gateway) {
		return config.Config{}, verify.Options{}, bad("gateway", verify.RedactedAddress(f.gateway), "the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths)")
	}
	cfg, err := f.inputs.StatusConfig()
	if err != nil {
		return config.Config{}, verify.Options{}, err
	}
	answers := map[config.Version]string{}
	if f.answerGreen != "" {
		answers[config.Green] = f.answerGreen
	}
	if f.answerBlue != "" {
		answers[config.Blue] = f.answerBlue
	}
	return cfg, verify.Options{
		Gateway: f.gateway, Host: verify.ExactHost(cfg.Hosts), Answers: answers, Requests: f.requests, RouteRequests: f.routeRequests,
		Concurrency: f.concurrency, Timeout: f.timeout, Confidence: f.confidence,
		Tolerance: f.tolerance / 100, MaxErrorShare: f.maxErrors / 100,
	}, nil
}

// runVerify reads the live routes, measures them and prints the report; a mismatch is the error.
func runVerify(ctx context.Context, out io.Writer, rc *rest.Config, cfg config.Config, o verify.Options, output string) error {
	r, err := engineVerify(ctx, rc, cfg, o)
	if err != nil {
		return err
	}
	if output == "json" {
		err = verify.WriteJSON(out, r)
	} else {
		_, err = io.WriteString(out, verify.Markdown(r))
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if !r.Passed {
		return fmt.Errorf("traffic does not match: %s", firstProblem(r.Problems))
	}
	return nil
}

// engineVerify is verify.Check against the cluster rc points at: the one measurement behind the
// verify command and the verification the Azure DevOps task and the GitHub Action run after a stage.
func engineVerify(ctx context.Context, rc *rest.Config, cfg config.Config, o verify.Options) (*verify.Report, error) {
	c, err := engine.NewClient(rc)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return verify.Check(ctx, c, cfg, o)
}

func firstProblem(ps []string) string {
	if len(ps) > 1 {
		return fmt.Sprintf("%s (and %d more problems above)", ps[0], len(ps)-1)
	}
	return strings.Join(ps, "")
}
