package app

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
)

// serveModelFlags are serve-model's inputs.
type serveModelFlags struct {
	addr       string
	answer     string
	failRate   float64
	failStatus int
	latency    time.Duration
	grace      time.Duration
}

// newServeModelCommand runs the scoring mockup that the demo images ship, so stages, gates and
// load tests can be tried without a real model.
func newServeModelCommand(s Streams) *cobra.Command {
	f := &serveModelFlags{}
	cmd := &cobra.Command{
		Use:   "serve-model",
		Short: "Serve a scoring mockup: /score answers a fixed JSON string, /healthz answers ok",
		Long: "Serve a scoring mockup like the documented demo images: GET or POST /score answers --answer as a JSON\n" +
			"string, /healthz answers ok. --fail-rate and --latency make it misbehave so traffic gates can be tried.\n" +
			"It stops gracefully on Ctrl-C or SIGTERM, letting requests in flight finish.",
		Example: `  mlcanary serve-model --addr :5001 --answer "New Model B"
  mlcanary serve-model --addr 127.0.0.1:5002 --fail-rate 0.1 --latency 50ms`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options()
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", f.addr, err)
			}
			fmt.Fprintf(s.Err, "serving %q on http://%s%s (health: %s)\n", opts.Answer, ln.Addr(), scoringmock.ScorePath, scoringmock.HealthPath)
			return scoringmock.Serve(cmd.Context(), ln, scoringmock.Handler(opts), f.grace)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", ":5001", "HOST:PORT to listen on (the documented images use port 5001)")
	fs.StringVar(&f.answer, "answer", scoringmock.DefaultAnswer, "what /score answers, as a JSON string")
	fs.Float64Var(&f.failRate, "fail-rate", 0, "fraction of /score requests (0 to 1) that fail, spread evenly")
	fs.IntVar(&f.failStatus, "fail-status", 500, "HTTP status of a failed request (400 to 599)")
	fs.DurationVar(&f.latency, "latency", 0, "delay before every /score answer, e.g. 50ms")
	fs.DurationVar(&f.grace, "shutdown-timeout", 10*time.Second, "how long requests in flight may finish after Ctrl-C or SIGTERM")
	return cmd
}

// options validates the flags into model options; the address is checked by listening.
func (f *serveModelFlags) options() (scoringmock.Options, error) {
	switch {
	case f.failRate < 0 || f.failRate > 1:
		return scoringmock.Options{}, &config.InputError{Input: "fail-rate", Value: fmt.Sprint(f.failRate), Allowed: "a fraction from 0 to 1"}
	case f.failStatus < 400 || f.failStatus > 599:
		return scoringmock.Options{}, &config.InputError{Input: "fail-status", Value: fmt.Sprint(f.failStatus), Allowed: "an HTTP error status from 400 to 599"}
	case f.latency < 0:
		return scoringmock.Options{}, &config.InputError{Input: "latency", Value: f.latency.String(), Allowed: "a duration of 0 or more, e.g. 50ms"}
	case f.grace < 0:
		return scoringmock.Options{}, &config.InputError{Input: "shutdown-timeout", Value: f.grace.String(), Allowed: "a duration of 0 or more, e.g. 10s"}
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return scoringmock.Options{}, &config.InputError{Input: "addr", Value: f.addr, Allowed: "HOST:PORT or :PORT, e.g. :5001 or 127.0.0.1:5001"}
	}
	return scoringmock.Options{Answer: f.answer, FailRate: f.failRate, FailStatus: f.failStatus, Latency: f.latency}, nil
}
