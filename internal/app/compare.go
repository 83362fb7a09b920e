package app

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/compare"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// compareStatusInputs are the config inputs naming what compare reads of the cluster when given
// --namespace; its own --header and --path are the routing header and URI prefix Status reads by.
var compareStatusInputs = map[string]bool{
	config.FlagNamespace: true, config.FlagApp: true, config.FlagVirtualService: true,
	config.FlagGreenDeployment: true, config.FlagBlueDeployment: true,
	config.FlagGreenService: true, config.FlagBlueService: true,
}

// newCompareCommand sends the same requests to blue and green and compares their answers.
func newCompareCommand(s Streams, env LookupEnv) *cobra.Command {
	in := compare.NewInputs()
	var kf kubeFlags
	var names config.Inputs
	cmd := &cobra.Command{
		Use:   "compare --gateway URL --requests FILE",
		Short: "Send the same requests to blue and green and compare the answers: exit 0 agrees, 1 differs or undecided",
		Long: "Send every request of a JSON Lines file (a JSON body per line, or {\"body\": …, \"headers\": {…}, \"path\": \"/score\"};\n" +
			"- reads standard input) to both versions through their header routes (--header: blue or green), at the\n" +
			"same moment, and compare the JSON answers: strings, labels and booleans exactly, numbers within\n" +
			"--abs-tolerance/--rel-tolerance, arrays element by element, only the --field paths when given. Green's\n" +
			"valid answers are the reference; a request blue answers invalidly (HTTP error, timeout, non-JSON,\n" +
			"larger than 16 MiB, NaN/Infinity in a compared value, null, missing field) or differently disagrees. Blue agrees when the share of disagreeing\n" +
			"requests is below --max-disagreement at --confidence (Wilson interval), differs when it is above, and\n" +
			"is undecided when too few requests tell. The report adds each numeric field's differences, a\n" +
			"two-sample Kolmogorov–Smirnov test of one numeric output (--shift-field), each version's invalid\n" +
			"answers and latency, and the most divergent requests. Memory stays flat however long the file.\n" +
			"With --namespace (or --kubeconfig/--context), each line's copy for blue and for green must reach that version's own\n" +
			"Service through the live VirtualService, routed as Istio's gateway does (first matching route, every\n" +
			"condition of a match), and blue must be deployed, or nothing is sent (exit 1). Without it the routes are\n" +
			"unknown, and valid answers that are all byte for byte alike are undecided: that is also what green\n" +
			"answering both copies looks like.",
		Example: `  mlcanary compare --gateway $GATEWAY_IP --requests requests.jsonl
  mlcanary compare --gateway http://20.1.2.3 --requests - --field label --field score --abs-tolerance 0.01 < requests.jsonl
  mlcanary compare --gateway 20.1.2.3 --requests requests.jsonl --max-disagreement 0.5 -c 20 --rate 200 -o json
  mlcanary compare --gateway $GATEWAY_IP --requests requests.jsonl -n scoring   # checks the live header routes first`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := in.Options()
			if err != nil {
				return err
			}
			var cfg *config.Config
			if fs := cmd.Flags(); fs.Changed(config.FlagNamespace) || fs.Changed("kubeconfig") || fs.Changed("context") {
				c, err := names.StatusConfig()
				if err != nil {
					return err
				}
				c.Header, c.URIPrefix = in.Header, in.Path
				cfg = &c
			}
			rq, err := compare.Prepare(in.Requests, s.In)
			if err != nil {
				return err
			}
			defer func() { _ = rq.Close() }()
			if cfg != nil {
				rc, err := kf.restConfig(env)
				if err != nil {
					return err
				}
				if err := liveRoutes(kube.WithCommand(cmd.Context(), "mlcanary compare"), rc, *cfg, &o); err != nil {
					return err
				}
			}
			return runCompare(cmd.Context(), s.Out, rq, o, in.Output)
		},
	}
	in.AddFlags(cmd.Flags())
	kf.add(cmd.Flags())
	addInputs(cmd.Flags(), &names, compareStatusInputs)
	return cmd
}

// liveRoutes reads cfg's live state into o: the live VirtualService (compare.NewLive), through
// which Run checks every line's two copies reach each version's own Service before sending anything;
// blue not deployed is an error (nothing to compare).
func liveRoutes(ctx context.Context, rc *rest.Config, cfg config.Config, o *compare.Options) error {
	c, err := engine.NewClient(rc)
	if err != nil {
		return fmt.Errorf("connecting to the cluster: %w", err)
	}
	res, err := c.Status(ctx, cfg)
	if err != nil {
		return fmt.Errorf("reading the live routes in namespace %s: %w", cfg.Namespace, err)
	}
	if res.Images.Blue == "" {
		return fmt.Errorf("blue is not deployed in namespace %s, so there is nothing to compare", cfg.Namespace)
	}
	kc, err := kube.New(rc)
	if err != nil {
		return err
	}
	vs, err := kc.Get(ctx, kube.VirtualServices, cfg.Namespace, cfg.VirtualService)
	if err != nil {
		return fmt.Errorf("reading VirtualService %s/%s: %w", cfg.Namespace, cfg.VirtualService, err)
	}
	var obj map[string]any
	if vs != nil {
		obj = vs.Object
	}
	o.RoutesKnown, o.Live = true, compare.NewLive(&cfg, obj)
	return nil
}

// runCompare compares the prepared requests, prints the report in format, and returns the
// verdict's failure (nil when blue agrees).
func runCompare(ctx context.Context, out io.Writer, rq *compare.Requests, o compare.Options, format string) error {
	r, err := compareRequests(ctx, rq, o)
	if err != nil {
		return err
	}
	if format == compare.FormatJSON {
		err = compare.WriteJSON(out, r)
	} else {
		_, err = io.WriteString(out, compare.Markdown(r))
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return r.Failure()
}

// compareRequests runs one comparison of the prepared requests.
func compareRequests(ctx context.Context, rq *compare.Requests, o compare.Options) (*compare.Report, error) {
	f, err := rq.Open()
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return compare.Run(ctx, f, rq.Name, o)
}
