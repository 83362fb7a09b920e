package app

import (
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/scoringmock"
)

// newServeModelCommand runs the scoring mockup that the demo images ship, so stages, gates and
// load tests can be tried without a real model.
func newServeModelCommand(s Streams) *cobra.Command {
	var in scoringmock.Inputs
	cmd := &cobra.Command{
		Use:   "serve-model",
		Short: "Serve a scoring mockup: /score answers a fixed JSON string, / answers once the model is loaded",
		Long: "Serve a scoring mockup like the documented demo images: GET or POST /score answers --answer as a JSON\n" +
			"string, /healthz answers ok, and / answers 200 once the model is loaded (503 before), as Azure ML's\n" +
			"inference server does: the path of the readiness probe mlcanary adds. --ready-after models a slow\n" +
			"model load; --fail-rate and --latency make it misbehave so traffic gates can be tried.\n" +
			"--weights turns on a deterministic model instead of the fixed answer: /score reads a JSON array of\n" +
			"numbers (or an object's named members) and answers {\"score\": bias + Σ weight·input, \"label\": …}, the\n" +
			"label from --threshold, and --nan-rate makes a share of scores NaN: two versions can then agree, differ\n" +
			"slightly or flip labels on purpose, for mlcanary compare.\n" +
			"It stops gracefully on Ctrl-C or SIGTERM, letting requests in flight finish.",
		Example: `  mlcanary serve-model --addr :5001 --answer "New Model B"
  mlcanary serve-model --addr :5001 --ready-after 30s
  mlcanary serve-model --addr 127.0.0.1:5002 --fail-rate 0.1 --latency 50ms
  mlcanary serve-model --addr :5001 --weights 0.25,0.5 --bias -0.1 --threshold 0.5 --nan-rate 0.01`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := in.Options()
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", in.Addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", in.Addr, err)
			}
			what := opts.Answer
			if opts.Model != nil {
				what = fmt.Sprintf("a linear model (weights %s, bias %g, threshold %g)", in.Weights, opts.Model.Bias, opts.Model.Threshold)
			}
			_, _ = fmt.Fprintf(s.Err, "serving %q on http://%s%s (health: %s; ready: %s, after %s)\n", what, ln.Addr(), scoringmock.ScorePath,
				scoringmock.HealthPath, scoringmock.ReadyPath, opts.ReadyAfter)
			return scoringmock.Serve(cmd.Context(), ln, scoringmock.Handler(opts), in.Grace)
		},
	}
	in.AddFlags(cmd.Flags())
	return cmd
}
