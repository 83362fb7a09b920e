package app

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// verifyFlags are verify's inputs (verify.Inputs) and the cluster's: the kubeconfig and the names
// Status reads (config.Inputs).
type verifyFlags struct {
	verify verify.Inputs
	kube   kubeFlags
	inputs config.Inputs
	// copies is the Prometheus source that counts a mirror's copies (analyze.Copies), if given.
	copies analyze.Inputs
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
			"learned through the header routes unless --answer-green/--answer-blue say it. After Shadow_N, blue's\n" +
			"pods must answer about N% as many requests as green's while verify uses the default route: counted\n" +
			"from Istio's metrics at --prometheus-url (without it the copies are not counted). Exits 1 when\n" +
			"traffic does not match or there were too few answers to decide.",
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
			return runVerify(kube.WithCommand(cmd.Context(), "mlcanary verify"), s.Out, rc, cfg, opts, f.verify.Output)
		},
	}
	f.bind(cmd)
	return cmd
}

func (f *verifyFlags) bind(cmd *cobra.Command) {
	fs := cmd.Flags()
	f.verify.AddFlags(fs)
	f.copies.AddSourceFlags(fs)
	f.kube.add(fs)
	// The names Status reads, bound exactly as the stage commands bind them. --gateway here is the
	// address requests go to, so the Istio Gateway's name (and inputs only stages use) keep defaults.
	addInputs(fs, &f.inputs, statusInputs)
}

// statusInputs are the config inputs that name what Status reads.
var statusInputs = map[string]bool{
	config.FlagNamespace: true, config.FlagApp: true, config.FlagVirtualService: true,
	config.FlagGreenDeployment: true, config.FlagBlueDeployment: true,
	config.FlagGreenService: true, config.FlagBlueService: true,
	config.FlagHeader: true, config.FlagURIPrefix: true, config.FlagHosts: true,
	// --gateway auto finds the ingress gateway Service as a stage does.
	config.FlagGatewaySelector: true, config.FlagIngress: true, config.FlagGatewayPort: true,
}

// options validates verify's inputs, then the names, into the config Status needs and verify's options.
func (f *verifyFlags) options() (config.Config, verify.Options, error) {
	if err := f.verify.Validate(); err != nil {
		return config.Config{}, verify.Options{}, err
	}
	cfg, err := f.inputs.StatusConfig()
	if err != nil {
		return config.Config{}, verify.Options{}, err
	}
	o, err := f.verify.Options(cfg.Hosts)
	if err != nil || !f.copies.SourceGiven() {
		return cfg, o, err
	}
	if err := f.copies.Validate(); err != nil {
		return config.Config{}, verify.Options{}, err
	}
	o.Copies, err = analyze.Copies(f.copies, cfg, defaultIdentity())
	return cfg, o, err
}

// runVerify reads the live routes, measures them and prints the report; a mismatch is the error.
func runVerify(ctx context.Context, out io.Writer, rc *rest.Config, cfg config.Config, o verify.Options, output string) error {
	r, err := engineVerify(ctx, rc, cfg, o)
	if err != nil {
		return err
	}
	if output == verify.FormatJSON {
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

// addInputs binds to fs the stage flags of in that names lists, exactly as the stage commands bind
// them, for a command that reads only some of the stage's names (verify, analyze).
func addInputs(fs *pflag.FlagSet, in *config.Inputs, names map[string]bool) {
	all := pflag.NewFlagSet("names", pflag.ContinueOnError)
	in.AddFlags(all)
	all.VisitAll(func(fl *pflag.Flag) {
		if names[fl.Name] {
			fs.AddFlag(fl)
		}
	})
}
