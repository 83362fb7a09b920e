package verify

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// cliOptions binds Inputs to a FlagSet as `mlcanary verify` does, parses args and validates them.
func cliOptions(t *testing.T, hosts []string, args ...string) (Inputs, Options, error) {
	t.Helper()
	var in Inputs
	fs := pflag.NewFlagSet("verify", pflag.ContinueOnError)
	in.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	o, err := in.Options(hosts)
	return in, o, err
}

// Every input verify rejects, with the whole line it prints: the flag as typed, the value, what is
// allowed.
func TestInputsRejects(t *testing.T) {
	t.Parallel()
	gw := []string{"--gateway", "20.1.2.3"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no gateway", nil, `invalid gateway "": allowed: the ingress gateway's address, e.g. 20.1.2.3, or auto (read from its Service)`},
		{"blank gateway", []string{"--gateway", " "}, `invalid gateway " ": allowed: the ingress gateway's address, e.g. 20.1.2.3, or auto (read from its Service)`},
		{"gateway not http", []string{"--gateway", "ftp://1.2.3.4"}, `invalid gateway "ftp://1.2.3.4": allowed: the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths), or auto (read from its Service)`},
		{"gateway with the path", []string{"--gateway", "1.2.3.4/score"}, `invalid gateway "1.2.3.4/score": allowed: the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths), or auto (read from its Service)`},
		{"gateway with a query", []string{"--gateway", "1.2.3.4?x=1"}, `invalid gateway "1.2.3.4?x=1": allowed: the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths), or auto (read from its Service)`},
		{"gateway with credentials", []string{"--gateway", "http://user:s3cret@1.2.3.4"}, `invalid gateway "http://user:xxxxx@1.2.3.4": allowed: the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths), or auto (read from its Service)`},
		{"gateway that does not parse, with credentials", []string{"--gateway", "http://us er:s3cret@1.2.3.4"}, `invalid gateway "(not shown: it may hold credentials)": allowed: the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths), or auto (read from its Service)`},
		{"requests", append(gw, "--requests", "-1"), `invalid requests "-1": allowed: a whole number, 0 (enough to decide) or more`},
		{"route requests", append(gw, "--route-requests", "-1"), `invalid route-requests "-1": allowed: a whole number, 0 (enough to decide) or more`},
		{"no concurrency", append(gw, "-c", "0"), `invalid concurrency "0": allowed: a whole number from 1 to 10000`},
		{"too much concurrency", append(gw, "--concurrency", "10001"), `invalid concurrency "10001": allowed: a whole number from 1 to 10000`},
		{"no request timeout", append(gw, "--request-timeout", "0s"), `invalid request-timeout "0s": allowed: a duration above 0, e.g. 10s`},
		{"negative request timeout", append(gw, "--request-timeout", "-1s"), `invalid request-timeout "-1s": allowed: a duration above 0, e.g. 10s`},
		{"confidence too low", append(gw, "--confidence", "0.2"), `invalid confidence "0.2": allowed: a fraction from 0.5 to below 1, e.g. 0.99`},
		{"confidence of 1", append(gw, "--confidence", "1"), `invalid confidence "1": allowed: a fraction from 0.5 to below 1, e.g. 0.99`},
		{"no tolerance", append(gw, "--tolerance", "0"), `invalid tolerance "0": allowed: percentage points above 0 and below 100, e.g. 5`},
		{"tolerance of 100", append(gw, "--tolerance", "100"), `invalid tolerance "100": allowed: percentage points above 0 and below 100, e.g. 5`},
		{"negative max errors", append(gw, "--max-errors", "-1"), `invalid max-errors "-1": allowed: a percentage from 0 to 100`},
		{"max errors above 100", append(gw, "--max-errors", "101"), `invalid max-errors "101": allowed: a percentage from 0 to 100`},
		{"output", append(gw, "-o", "yaml"), `invalid output "yaml": allowed: markdown or json`},
		{"gateway before the rest", []string{"--gateway", "1.2.3.4/score", "--requests", "-1"}, `invalid gateway "1.2.3.4/score": allowed: the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths), or auto (read from its Service)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := cliOptions(t, nil, tc.args...)
			var in *config.InputError
			if !errors.As(err, &in) || err.Error() != tc.want {
				t.Errorf("err = %v, want the input error\n%s", err, tc.want)
			}
		})
	}
}

// Every default, and the conversion from the units a person types (percentages) to Options'.
func TestInputsOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		hosts  []string
		args   []string
		output string
		want   Options
	}{
		{"defaults", nil, []string{"--gateway", "20.1.2.3"}, FormatMarkdown, Options{
			Gateway: "20.1.2.3", Answers: map[config.Version]string{}, Concurrency: 10, Timeout: 10 * time.Second,
			Confidence: 0.99, Tolerance: 0.05, MaxErrorShare: 0.01}},
		{"every input", []string{"*.example.com", "scoring.example.com"}, []string{"--gateway", "https://gw.example.com:8443/",
			"--answer-green", "New Model A", "--answer-blue", "New Model B", "--requests", "4000", "--route-requests", "300",
			"-c", "20", "--request-timeout", "2s", "--confidence", "0.95", "--tolerance", "2.5", "--max-errors", "0", "-o", "json"},
			FormatJSON, Options{
				Gateway: "https://gw.example.com:8443/", Host: "scoring.example.com",
				Answers:  map[config.Version]string{config.Green: "New Model A", config.Blue: "New Model B"},
				Requests: 4000, RouteRequests: 300, Concurrency: 20, Timeout: 2 * time.Second,
				Confidence: 0.95, Tolerance: 0.025, MaxErrorShare: 0}},
		{"bounds", nil, []string{"--gateway", "20.1.2.3", "-c", "10000", "--confidence", "0.5", "--tolerance", "99.5", "--max-errors", "100"},
			FormatMarkdown, Options{Gateway: "20.1.2.3", Answers: map[config.Version]string{}, Concurrency: 10000,
				Timeout: 10 * time.Second, Confidence: 0.5, Tolerance: 0.995, MaxErrorShare: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, got, err := cliOptions(t, tc.hosts, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			if in.Output != tc.output {
				t.Errorf("output %q, want %q", in.Output, tc.output)
			}
		})
	}
}

// A stage front end validates by the same rules, naming its own inputs, and keeps the CLI's
// defaults for what it does not expose.
func TestStageInputsRejectLikeTheCLI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--verify-gateway", "20.1.2.3/score"}, `invalid verify-gateway "20.1.2.3/score": allowed: the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths), or auto (read from its Service)`},
		{[]string{"--verify-gateway", "https://user:secret@gw.example.com"}, `invalid verify-gateway "https://user:xxxxx@gw.example.com": allowed: the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths), or auto (read from its Service)`},
		{[]string{"--verify-gateway", "20.1.2.3", "--verify-requests", "-1"}, `invalid verify-requests "-1": allowed: a whole number, 0 (enough to decide) or more`},
		{[]string{"--verify-gateway", "20.1.2.3", "--verify-tolerance", "100"}, `invalid verify-tolerance "100": allowed: percentage points above 0 and below 100, e.g. 5`},
	}
	for _, tc := range tests {
		if _, err := stageOptions(t, nil, tc.args...); err == nil || err.Error() != tc.want {
			t.Errorf("%v: err = %v, want\n%s", tc.args, err, tc.want)
		}
	}
	stage, err := stageOptions(t, nil, "--verify-gateway", "20.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	_, cli, _ := cliOptions(t, nil, "--gateway", "20.1.2.3")
	if diff := cmp.Diff(cli, *stage); diff != "" {
		t.Errorf("a stage's defaults differ from the CLI's (-cli +stage):\n%s", diff)
	}
	// auto (read from the ingress gateway Service when verifying) passes both the same way.
	stage, err = stageOptions(t, nil, "--verify-gateway", AutoGateway)
	if _, cli, cerr := cliOptions(t, nil, "--gateway", AutoGateway); err != nil || cerr != nil || stage.Gateway != AutoGateway || cli.Gateway != AutoGateway {
		t.Errorf("auto: stage %v %v, CLI %v %v", stage, err, cli, cerr)
	}
}
