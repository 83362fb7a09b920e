package app

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/loadtest"
)

// newLoadtestCommand replaces the documented load_test.sh loop with a measurement: it prints each
// answer when asked, and always a tally a person does not have to count.
func newLoadtestCommand(s Streams) *cobra.Command {
	var in loadtest.Inputs
	cmd := &cobra.Command{
		Use:   "loadtest URL",
		Short: "Send requests to a scoring endpoint and tally the answers, errors and latency",
		Long: "Send requests to a scoring endpoint (GATEWAY_IP/score) and tally each distinct answer, each kind of\n" +
			"error, latency quantiles and the achieved rate. --expect checks the observed shares against expected\n" +
			"weights with Wilson intervals: it exits 1 when they disagree, or when there are too few answers to decide.\n" +
			"Ctrl-C stops it and prints the partial tally.",
		Example: `  mlcanary loadtest $GATEWAY_IP/score -n 10 --print
  mlcanary loadtest $GATEWAY_IP/score --version blue
  mlcanary loadtest $GATEWAY_IP/score -n 4000 -c 20 --expect "New Model A=50,New Model B=50"`,
		Args: exactArgs(1, "one URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, want, err := in.Options(args[0])
			if err != nil {
				return err
			}
			if in.Print {
				opts.OnResult = printResult(answerStream(s, in.Output))
			}
			t, err := loadtest.Run(cmd.Context(), opts)
			if err != nil {
				return fmt.Errorf("starting the load test: %w", err)
			}
			return reportLoadtest(s.Out, &in, opts.URL, t, want)
		},
	}
	in.AddFlags(cmd.Flags())
	return cmd
}

// reportLoadtest prints the tally and returns why the load test failed, if it did.
func reportLoadtest(out io.Writer, in *loadtest.Inputs, url string, t *loadtest.Tally, want []loadtest.Expectation) error {
	r := loadtest.NewReport(url, t, in.Compare(t, want))
	write := loadtest.WriteText
	if in.Output == loadtest.FormatJSON {
		write = loadtest.WriteJSON
	}
	if err := write(out, r); err != nil {
		return fmt.Errorf("writing the tally: %w", err)
	}
	return r.Failure()
}

// answerStream is where --print goes: stdout, unless stdout carries JSON.
func answerStream(s Streams, output string) io.Writer {
	if output == loadtest.FormatJSON {
		return s.Err
	}
	return s.Out
}

// printResult prints one answer per line as curl would show it, or the error's kind.
func printResult(w io.Writer) func(loadtest.Result) {
	return func(r loadtest.Result) {
		if r.Err != "" {
			_, _ = fmt.Fprintf(w, "error: %s\n", r.Err) // the tally, not these lines, is the result
			return
		}
		_, _ = fmt.Fprintln(w, r.Raw)
	}
}
