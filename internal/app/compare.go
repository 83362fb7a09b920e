package app

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/compare"
)

// newCompareCommand sends the same requests to blue and green and compares their answers.
func newCompareCommand(s Streams) *cobra.Command {
	in := compare.NewInputs()
	cmd := &cobra.Command{
		Use:   "compare --gateway URL --requests FILE",
		Short: "Send the same requests to blue and green and compare the answers: exit 0 agrees, 1 differs or undecided",
		Long: "Send every request of a JSON Lines file (a JSON body per line, or {\"body\": …, \"headers\": {…}, \"path\": \"/score\"};\n" +
			"- reads standard input) to both versions through their header routes (--header: blue or green), at the\n" +
			"same moment, and compare the JSON answers: strings, labels and booleans exactly, numbers within\n" +
			"--abs-tolerance/--rel-tolerance, arrays element by element, only the --field paths when given. Green's\n" +
			"valid answers are the reference; a request blue answers invalidly (HTTP error, timeout, non-JSON,\n" +
			"NaN/Infinity, null, missing field) or differently disagrees. Blue agrees when the share of disagreeing\n" +
			"requests is below --max-disagreement at --confidence (Wilson interval), differs when it is above, and\n" +
			"is undecided when too few requests tell. The report adds each numeric field's differences, a\n" +
			"two-sample Kolmogorov–Smirnov test of one numeric output (--shift-field), each version's invalid\n" +
			"answers and latency, and the most divergent requests. Memory stays flat however long the file.",
		Example: `  mlcanary compare --gateway $GATEWAY_IP --requests requests.jsonl
  mlcanary compare --gateway http://20.1.2.3 --requests - --field label --field score --abs-tolerance 0.01 < requests.jsonl
  mlcanary compare --gateway 20.1.2.3 --requests requests.jsonl --max-disagreement 0.5 -c 20 --rate 200 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := in.Options()
			if err != nil {
				return err
			}
			rq, err := compare.Prepare(in.Requests, s.In)
			if err != nil {
				return err
			}
			defer func() { _ = rq.Close() }()
			return runCompare(cmd.Context(), s.Out, rq, o, in.Output)
		},
	}
	in.AddFlags(cmd.Flags())
	return cmd
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
