package loadtest

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// parseInputs binds Inputs to a FlagSet as `mlcanary loadtest` does and parses args.
func parseInputs(t *testing.T, args ...string) Inputs {
	t.Helper()
	var in Inputs
	fs := pflag.NewFlagSet("loadtest", pflag.ContinueOnError)
	in.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return in
}

// Every input loadtest rejects, with the whole line it prints: the flag as typed (the URL argument
// as URL), the value, what is allowed.
func TestInputsRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		args []string
		want string
	}{
		{"URL not http", "ftp://x/score", nil, `invalid URL "ftp://x/score": allowed: an http(s) URL or HOST[:PORT]/PATH, e.g. 20.1.2.3/score`},
		{"URL without a host", "http:///score", nil, `invalid URL "http:///score": allowed: an http(s) URL or HOST[:PORT]/PATH, e.g. 20.1.2.3/score`},
		{"URL that does not parse", "20.1.2.3:port/score", nil, `invalid URL "20.1.2.3:port/score": allowed: an http(s) URL or HOST[:PORT]/PATH, e.g. 20.1.2.3/score`},
		{"requests", "h/score", []string{"-n", "-5"}, `invalid requests "-5": allowed: a whole number of 1 or more (0 or unset: 200, or unbounded with --duration)`},
		{"no concurrency", "h/score", []string{"-c", "0"}, `invalid concurrency "0": allowed: a whole number from 1 to 10000`},
		{"too much concurrency", "h/score", []string{"--concurrency", "10001"}, `invalid concurrency "10001": allowed: a whole number from 1 to 10000`},
		{"rate", "h/score", []string{"--rate", "-1"}, `invalid rate "-1": allowed: requests per second, 0 or more`},
		{"duration", "h/score", []string{"--duration", "-1s"}, `invalid duration "-1s": allowed: a duration of 0 or more, e.g. 30s`},
		{"no timeout", "h/score", []string{"--timeout", "0s"}, `invalid timeout "0s": allowed: a duration above 0, e.g. 10s`},
		{"version", "h/score", []string{"--version", "purple"}, `invalid version "purple": allowed: blue or green`},
		{"version not a version", "h/score", []string{"--version", "Blue2"}, `invalid version "Blue2": allowed: blue or green`},
		{"method", "h/score", []string{"-m", "DELETE"}, `invalid method "DELETE": allowed: GET or POST`},
		{"output", "h/score", []string{"-o", "yaml"}, `invalid output "yaml": allowed: text or json`},
		{"confidence too low", "h/score", []string{"--confidence", "0.4"}, `invalid confidence "0.4": allowed: a fraction from 0.5 to below 1, e.g. 0.99`},
		{"confidence of 1", "h/score", []string{"--confidence", "1"}, `invalid confidence "1": allowed: a fraction from 0.5 to below 1, e.g. 0.99`},
		{"no tolerance", "h/score", []string{"--tolerance", "0"}, `invalid tolerance "0": allowed: percentage points above 0 and below 100, e.g. 5`},
		{"tolerance of 100", "h/score", []string{"--tolerance", "100"}, `invalid tolerance "100": allowed: percentage points above 0 and below 100, e.g. 5`},
		{"header without =", "h/score", []string{"-H", "x-api-version"}, `invalid header "x-api-version": allowed: name=value, e.g. x-api-version=blue`},
		{"header without a name", "h/score", []string{"-H", " =blue"}, `invalid header " =blue": allowed: name=value, e.g. x-api-version=blue`},
		{"version header", "h/score", []string{"--version", "blue", "--version-header", " "}, `invalid version-header " ": allowed: a header name, e.g. x-api-version`},
		{"expect without weight", "h/score", []string{"--expect", "New Model A"}, `invalid expect "New Model A": allowed: ANSWER=WEIGHT pairs separated by commas, weights not negative and not all 0 (item "New Model A" has no =WEIGHT)`},
		{"expect without answer", "h/score", []string{"--expect", "=50"}, `invalid expect "=50": allowed: ANSWER=WEIGHT pairs separated by commas, weights not negative and not all 0 (item "=50" has no answer before =)`},
		{"expect negative", "h/score", []string{"--expect", "A=-1,B=2"}, `invalid expect "A=-1,B=2": allowed: ANSWER=WEIGHT pairs separated by commas, weights not negative and not all 0 (weight of "A" is not a non-negative number)`},
		{"expect twice", "h/score", []string{"--expect", "A=1,A=2"}, `invalid expect "A=1,A=2": allowed: ANSWER=WEIGHT pairs separated by commas, weights not negative and not all 0 (answer "A" is listed twice)`},
		{"expect all 0", "h/score", []string{"--expect", "A=0,B=0"}, `invalid expect "A=0,B=0": allowed: ANSWER=WEIGHT pairs separated by commas, weights not negative and not all 0 (the weights add up to 0)`},
		{"flags before the URL", "ftp://x", []string{"-c", "0"}, `invalid concurrency "0": allowed: a whole number from 1 to 10000`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := parseInputs(t, tc.args...)
			_, _, err := in.Options(tc.url)
			var ie *config.InputError
			if !errors.As(err, &ie) || err.Error() != tc.want {
				t.Errorf("err = %v, want the input error\n%s", err, tc.want)
			}
		})
	}
}

// Every default, and what each input turns into.
func TestInputsOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		args []string
		want Options
		exp  []Expectation
	}{
		{"defaults", "20.1.2.3/score", nil, Options{URL: "http://20.1.2.3/score", Method: "GET", Header: http.Header{},
			Requests: 200, Concurrency: 10, Timeout: 10 * time.Second}, nil},
		{"https kept", " https://gw.example.com:8443/score ", nil, Options{URL: "https://gw.example.com:8443/score", Method: "GET",
			Header: http.Header{}, Requests: 200, Concurrency: 10, Timeout: 10 * time.Second}, nil},
		{"a duration leaves the count unbounded", "h/score", []string{"--duration", "30s"}, Options{URL: "http://h/score", Method: "GET",
			Header: http.Header{}, Duration: 30 * time.Second, Concurrency: 10, Timeout: 10 * time.Second}, nil},
		{"every input", "h/score", []string{"-n", "50", "-c", "4", "--rate", "100", "--timeout", "2s", "--version", "blue",
			"--version-header", "x-model", "-H", " x-a = 1 ", "-H", "x-a=2", "-m", "post", "-d", `{"x":1}`, "-o", "json", "-p"},
			Options{URL: "http://h/score", Method: "POST", Body: []byte(`{"x":1}`),
				Header:   http.Header{"X-A": {"1", "2"}, "X-Model": {"blue"}},
				Requests: 50, Concurrency: 4, Rate: 100, Timeout: 2 * time.Second}, nil},
		{"--version sets the routing header", "h/score", []string{"--version", "green"}, Options{URL: "http://h/score", Method: "GET",
			Header: http.Header{"X-Api-Version": {"green"}}, Requests: 200, Concurrency: 10, Timeout: 10 * time.Second}, nil},
		{"--expect raises the default count to decide", "h/score", []string{"--expect", "A=50,B=50"}, Options{URL: "http://h/score",
			Method: "GET", Header: http.Header{}, Requests: SampleSize([]float64{0.5, 0.5}, 0.99, 0.05), Concurrency: 10,
			Timeout: 10 * time.Second}, []Expectation{{"A", 0.5}, {"B", 0.5}}},
		{"--expect keeps a count given", "h/score", []string{"--expect", "A=1,B=3", "-n", "10"}, Options{URL: "http://h/score",
			Method: "GET", Header: http.Header{}, Requests: 10, Concurrency: 10, Timeout: 10 * time.Second},
			[]Expectation{{"A", 0.25}, {"B", 0.75}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := parseInputs(t, tc.args...)
			got, exp, err := in.Options(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Options{}, "OnResult")); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.exp, exp); diff != "" {
				t.Errorf("expectations (-want +got):\n%s", diff)
			}
		})
	}
	if n := SampleSize([]float64{0.5, 0.5}, 0.99, 0.05); n <= 200 {
		t.Errorf("SampleSize for 50/50 at 99%%, 5 points = %d; the --expect case above needs it above the default 200", n)
	}
}

// The flags' own defaults, as `mlcanary loadtest --help` shows them.
func TestInputsDefaults(t *testing.T) {
	t.Parallel()
	want := Inputs{Concurrency: 10, Timeout: 10 * time.Second, VersionHeader: "x-api-version", Method: "GET",
		Output: FormatText, Confidence: 0.99, Tolerance: 5}
	if diff := cmp.Diff(want, parseInputs(t)); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, NewInputs()); diff != "" {
		t.Errorf("NewInputs (-want +got):\n%s", diff)
	}
}

// Compare decides at the inputs' confidence and tolerance (points become a fraction), and not at
// all without --expect or after an interruption.
func TestInputsCompare(t *testing.T) {
	t.Parallel()
	in := parseInputs(t, "--confidence", "0.95", "--tolerance", "10")
	tally := &Tally{Answers: []AnswerCount{{Answer: "A", Count: 60}, {Answer: "B", Count: 40}}}
	want := []Expectation{{"A", 0.5}, {"B", 0.5}}
	c := in.Compare(tally, want)
	if c == nil || c.Confidence != 0.95 || c.Tolerance != 0.1 || c.N != 100 {
		t.Errorf("Compare = %+v, want confidence 0.95, tolerance 0.1, n 100", c)
	}
	if c := in.Compare(tally, nil); c != nil {
		t.Errorf("without --expect: %+v, want nil", c)
	}
	if c := in.Compare(&Tally{Answers: tally.Answers, Interrupted: true}, want); c != nil {
		t.Errorf("interrupted: %+v, want nil", c)
	}
}
