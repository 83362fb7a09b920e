package app

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/loadtest"
)

// loadtestFlags are loadtest's inputs, as given.
type loadtestFlags struct {
	requests, concurrency int
	rate                  float64
	duration, timeout     time.Duration
	version, versionKey   string
	headers               []string
	method, data, output  string
	print                 bool
	expect                string
	confidence, tolerance float64
}

// newLoadtestCommand replaces the documented load_test.sh loop with a measurement: it prints each
// answer when asked, and always a tally a person does not have to count.
func newLoadtestCommand(s Streams) *cobra.Command {
	f := &loadtestFlags{}
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
			opts, want, err := f.options(args[0])
			if err != nil {
				return err
			}
			if f.print {
				opts.OnResult = printResult(answerStream(s, f.output))
			}
			t, err := loadtest.Run(cmd.Context(), opts)
			if err != nil {
				return fmt.Errorf("starting the load test: %w", err)
			}
			return f.report(s.Out, opts.URL, t, want)
		},
	}
	f.bind(cmd)
	return cmd
}

func (f *loadtestFlags) bind(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.IntVarP(&f.requests, "requests", "n", 0, "number of requests (default 200, or unbounded with --duration)")
	fs.IntVarP(&f.concurrency, "concurrency", "c", 10, "requests in flight at once")
	fs.Float64Var(&f.rate, "rate", 0, "overall requests per second (0: as fast as answered)")
	fs.DurationVar(&f.duration, "duration", 0, "stop starting requests after this long, e.g. 30s")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.StringVar(&f.version, "version", "", "reach one version directly through its header route: blue or green")
	fs.StringVar(&f.versionKey, "version-header", config.Default().Header, "name of the routing header --version sets")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "extra request header as name=value (repeatable)")
	fs.StringVarP(&f.method, "method", "m", http.MethodGet, "HTTP method: GET or POST")
	fs.StringVarP(&f.data, "data", "d", "", "request body (sent with every request)")
	fs.StringVarP(&f.output, "output", "o", "text", "tally format: text or json")
	fs.BoolVarP(&f.print, "print", "p", false, "print each answer as it arrives, like the documented load_test.sh")
	fs.StringVar(&f.expect, "expect", "", `expected weights per answer, e.g. "New Model A=50,New Model B=50"`)
	fs.Float64Var(&f.confidence, "confidence", 0.99, "joint confidence of the --expect intervals, between 0.5 and 1")
	fs.Float64Var(&f.tolerance, "tolerance", 5, "percentage points a share may be off from --expect and still agree")
}

// options validates the flags and the URL; every problem is an *config.InputError.
func (f *loadtestFlags) options(rawURL string) (loadtest.Options, []loadtest.Expectation, error) {
	if err := f.validate(); err != nil {
		return loadtest.Options{}, nil, err
	}
	target, err := targetURL(rawURL)
	if err != nil {
		return loadtest.Options{}, nil, err
	}
	header, err := f.header()
	if err != nil {
		return loadtest.Options{}, nil, err
	}
	var want []loadtest.Expectation
	if f.expect != "" {
		if want, err = loadtest.ParseExpect(f.expect); err != nil {
			return loadtest.Options{}, nil, &config.InputError{Input: "expect", Value: f.expect,
				Allowed: "ANSWER=WEIGHT pairs separated by commas, weights not negative and not all 0 (" + err.Error() + ")"}
		}
	}
	o := loadtest.Options{URL: target, Method: strings.ToUpper(f.method), Header: header, Requests: f.requests,
		Duration: f.duration, Concurrency: f.concurrency, Rate: f.rate, Timeout: f.timeout}
	if f.data != "" {
		o.Body = []byte(f.data)
	}
	if o.Requests == 0 && o.Duration == 0 {
		o.Requests = 200
		if len(want) > 0 { // enough to decide, else --expect could only ever say "undecided"
			shares := make([]float64, len(want))
			for i, w := range want {
				shares[i] = w.Share
			}
			o.Requests = max(o.Requests, loadtest.SampleSize(shares, f.confidence, f.tolerance/100))
		}
	}
	return o, want, nil
}

func (f *loadtestFlags) validate() error {
	bad := func(input, value, allowed string) error {
		return &config.InputError{Input: input, Value: value, Allowed: allowed}
	}
	m := strings.ToUpper(f.method)
	switch {
	case f.requests < 0:
		return bad("requests", fmt.Sprint(f.requests), "a whole number of 1 or more (0 or unset: 200, or unbounded with --duration)")
	case f.concurrency < 1 || f.concurrency > 10000:
		return bad("concurrency", fmt.Sprint(f.concurrency), "a whole number from 1 to 10000")
	case f.rate < 0:
		return bad("rate", fmt.Sprint(f.rate), "requests per second, 0 or more")
	case f.duration < 0:
		return bad("duration", f.duration.String(), "a duration of 0 or more, e.g. 30s")
	case f.timeout <= 0:
		return bad("timeout", f.timeout.String(), "a duration above 0, e.g. 10s")
	case f.version != "" && f.version != string(config.Blue) && f.version != string(config.Green):
		return bad("version", f.version, "blue or green")
	case m != http.MethodGet && m != http.MethodPost:
		return bad("method", f.method, "GET or POST")
	case f.output != "text" && f.output != "json":
		return bad("output", f.output, "text or json")
	case f.confidence < 0.5 || f.confidence >= 1:
		return bad("confidence", fmt.Sprint(f.confidence), "a fraction from 0.5 to below 1, e.g. 0.99")
	case f.tolerance <= 0 || f.tolerance >= 100:
		return bad("tolerance", fmt.Sprint(f.tolerance), "percentage points above 0 and below 100, e.g. 5")
	}
	return nil
}

// header builds the request headers from --version and --header.
func (f *loadtestFlags) header() (http.Header, error) {
	h := http.Header{}
	for _, kv := range f.headers {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, &config.InputError{Input: "header", Value: kv, Allowed: "name=value, e.g. x-api-version=blue"}
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if f.version != "" {
		if strings.TrimSpace(f.versionKey) == "" {
			return nil, &config.InputError{Input: "version-header", Value: f.versionKey, Allowed: "a header name, e.g. x-api-version"}
		}
		h.Set(f.versionKey, f.version)
	}
	return h, nil
}

// targetURL accepts the documented "$GATEWAY_IP/score" form by defaulting the scheme to http.
func targetURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &config.InputError{Input: "URL", Value: raw, Allowed: "an http(s) URL or HOST[:PORT]/PATH, e.g. 20.1.2.3/score"}
	}
	return u.String(), nil
}

// report prints the tally and turns a failed expectation or an interruption into the error.
func (f *loadtestFlags) report(out io.Writer, url string, t *loadtest.Tally, want []loadtest.Expectation) error {
	var cmp *loadtest.Comparison
	if want != nil && !t.Interrupted {
		c := loadtest.Compare(t, want, f.confidence, f.tolerance/100)
		cmp = &c
	}
	r := loadtest.NewReport(url, t, cmp)
	write := loadtest.WriteText
	if f.output == "json" {
		write = loadtest.WriteJSON
	}
	if err := write(out, r); err != nil {
		return fmt.Errorf("writing the tally: %w", err)
	}
	switch {
	case t.Interrupted:
		return errors.New("interrupted: the tally above is partial")
	case r.Answered == 0:
		return fmt.Errorf("none of the %d requests to %s was answered", r.Completed, url)
	case cmp != nil && cmp.Verdict == loadtest.Disagree:
		return fmt.Errorf("the observed split disagrees with --expect: %s", worstOff(*cmp))
	case cmp != nil && cmp.Verdict == loadtest.Undecided:
		return fmt.Errorf("too few answers (%d) to check --expect; about %d are needed (-n)", cmp.N, cmp.Needed)
	}
	return nil
}

// worstOff names the check that is furthest from its expectation.
func worstOff(c loadtest.Comparison) string {
	var worst loadtest.Check
	for _, ch := range c.Checks {
		if ch.Verdict == loadtest.Disagree && abs(ch.Off()) > abs(worst.Off()) {
			worst = ch
		}
	}
	return fmt.Sprintf("%q is %.1f%% of answers, expected %.1f%% (off by %+.1f points)",
		worst.Answer, 100*worst.Observed, 100*worst.Expected, 100*worst.Off())
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// answerStream is where --print goes: stdout, unless stdout carries JSON.
func answerStream(s Streams, output string) io.Writer {
	if output == "json" {
		return s.Err
	}
	return s.Out
}

// printResult prints one answer per line as curl would show it, or the error's kind.
func printResult(w io.Writer) func(loadtest.Result) {
	return func(r loadtest.Result) {
		if r.Err != "" {
			fmt.Fprintf(w, "error: %s\n", r.Err)
			return
		}
		fmt.Fprintln(w, r.Raw)
	}
}
