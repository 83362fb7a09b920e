package loadtest

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Names of `mlcanary loadtest`'s flags.
const (
	flagRequests      = "requests"
	flagConcurrency   = "concurrency"
	flagRate          = "rate"
	flagDuration      = "duration"
	flagTimeout       = "timeout"
	flagVersion       = "version"
	flagVersionHeader = "version-header"
	flagHeader        = "header"
	flagMethod        = "method"
	flagData          = "data"
	flagOutput        = "output"
	flagPrint         = "print"
	flagExpect        = "expect"
	flagConfidence    = "confidence"
	flagTolerance     = "tolerance"
	// inputURL names the URL argument in its errors.
	inputURL = "URL"
)

// Tally formats of `mlcanary loadtest --output`.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// DefaultRequests is how many requests a load test sends when neither a count nor a duration bounds
// it (more when --expect needs more to decide).
const DefaultRequests = 200

// Inputs are `mlcanary loadtest`'s inputs as given, in the units a person types them (percentage
// points, not fractions). Options validates them into a load test's Options and expectations.
type Inputs struct {
	// Requests bounds the requests (0: DefaultRequests, or unbounded with Duration).
	Requests int
	// Concurrency is the requests in flight at once (1 to 10000); Rate caps requests per second (0: none).
	Concurrency int
	Rate        float64
	// Duration stops starting requests after it (0: none); Timeout bounds each request (> 0).
	Duration, Timeout time.Duration
	// Version ("", blue or green) is sent as the header VersionHeader names, to reach that version directly.
	Version, VersionHeader string
	// Headers are extra request headers, each name=value.
	Headers []string
	// Method is GET or POST (any case); Data is the body of every request.
	Method, Data string
	// Output is the tally's format (FormatText or FormatJSON); Print shows each answer as it arrives.
	Output string
	Print  bool
	// Expect is the expected weight per answer, e.g. "New Model A=50,New Model B=50" (ParseExpect).
	Expect string
	// Confidence is a fraction in [0.5, 1); Tolerance is in percentage points, in (0, 100).
	Confidence, Tolerance float64
}

// NewInputs returns the inputs with the documented defaults: 10 in flight, 10s per request, GET,
// the routing header config.Default().Header, a text tally, 99% confidence and 5 points of tolerance.
func NewInputs() Inputs {
	return Inputs{Concurrency: 10, Timeout: 10 * time.Second, VersionHeader: config.Default().Header,
		Method: http.MethodGet, Output: FormatText, Confidence: 0.99, Tolerance: 5}
}

// AddFlags binds the inputs to fs under `mlcanary loadtest`'s flag names, with NewInputs' defaults.
func (in *Inputs) AddFlags(fs *pflag.FlagSet) {
	d := NewInputs()
	config.WholeVarP(fs, &in.Requests, flagRequests, "n", d.Requests, allowedRequests, fmt.Sprintf("number of requests (default %d, or unbounded with --duration)", DefaultRequests))
	config.WholeVarP(fs, &in.Concurrency, flagConcurrency, "c", d.Concurrency, allowedConcurrency, "requests in flight at once")
	config.DecimalVar(fs, &in.Rate, flagRate, d.Rate, allowedRate, "overall requests per second (0: as fast as answered)")
	config.DurationVarP(fs, &in.Duration, flagDuration, "", d.Duration, allowedDuration, "stop starting requests after this long, e.g. 30s")
	config.DurationVarP(fs, &in.Timeout, flagTimeout, "", d.Timeout, allowedTimeout, "per-request timeout")
	config.ChoiceVarP(fs, &in.Version, flagVersion, "", d.Version, "reach one version directly through its header route: blue or green", string(config.Blue), string(config.Green))
	fs.StringVar(&in.VersionHeader, flagVersionHeader, d.VersionHeader, "name of the routing header --version sets")
	fs.StringArrayVarP(&in.Headers, flagHeader, "H", d.Headers, "extra request header as name=value (repeatable)")
	config.ChoiceVarP(fs, &in.Method, flagMethod, "m", d.Method, "HTTP method: GET or POST", "get", "post")
	fs.StringVarP(&in.Data, flagData, "d", d.Data, "request body (sent with every request)")
	config.ChoiceVarP(fs, &in.Output, flagOutput, "o", d.Output, "tally format: text or json", FormatText, FormatJSON)
	config.BoolVarP(fs, &in.Print, flagPrint, "p", d.Print, "print each answer as it arrives, like the documented load_test.sh")
	fs.StringVar(&in.Expect, flagExpect, d.Expect, `expected weights per answer, e.g. "New Model A=50,New Model B=50"`)
	config.DecimalVar(fs, &in.Confidence, flagConfidence, d.Confidence, allowedConfidence, "joint confidence of the --expect intervals, between 0.5 and 1")
	config.DecimalVar(fs, &in.Tolerance, flagTolerance, d.Tolerance, allowedTolerance, "percentage points a share may be off from --expect and still agree")
}

// What each numeric input allows, said the same way whether its value does not parse (the flag
// refuses it) or is out of range (Validate refuses it).
var allowedRequests = fmt.Sprintf("a whole number of 1 or more (0 or unset: %d, or unbounded with --%s)", DefaultRequests, flagDuration)

const (
	allowedConcurrency = "a whole number from 1 to 10000"
	allowedRate        = "requests per second, 0 or more"
	allowedDuration    = "a duration of 0 or more, e.g. 30s"
	allowedTimeout     = "a duration above 0, e.g. 10s"
	allowedConfidence  = "a fraction from 0.5 to below 1, e.g. 0.99"
	allowedTolerance   = "percentage points above 0 and below 100, e.g. 5"
)

// Validate checks every flag on its own; the first bad one is a *config.InputError naming it and
// what is allowed. The URL, the headers and --expect are checked by Options, which parses them.
func (in *Inputs) Validate() error {
	bad := func(input, value, allowed string) error {
		return &config.InputError{Input: input, Value: value, Allowed: allowed}
	}
	m := strings.ToUpper(in.Method)
	switch {
	case in.Requests < 0:
		return bad(flagRequests, fmt.Sprint(in.Requests), allowedRequests)
	case in.Concurrency < 1 || in.Concurrency > 10000:
		return bad(flagConcurrency, fmt.Sprint(in.Concurrency), allowedConcurrency)
	case !(in.Rate >= 0 && !math.IsInf(in.Rate, 1)): // written so NaN and +Inf fail too
		return bad(flagRate, fmt.Sprint(in.Rate), allowedRate)
	case in.Duration < 0:
		return bad(flagDuration, in.Duration.String(), allowedDuration)
	case in.Timeout <= 0:
		return bad(flagTimeout, in.Timeout.String(), allowedTimeout)
	case in.Version != "" && in.Version != string(config.Blue) && in.Version != string(config.Green):
		return bad(flagVersion, in.Version, "blue or green")
	case m != http.MethodGet && m != http.MethodPost:
		return bad(flagMethod, in.Method, "GET or POST")
	case in.Output != FormatText && in.Output != FormatJSON:
		return bad(flagOutput, in.Output, "text or json")
	case !(in.Confidence >= 0.5 && in.Confidence < 1):
		return bad(flagConfidence, fmt.Sprint(in.Confidence), allowedConfidence)
	case !(in.Tolerance > 0 && in.Tolerance < 100):
		return bad(flagTolerance, fmt.Sprint(in.Tolerance), allowedTolerance)
	}
	return nil
}

// Options validates the inputs and the target rawURL into a load test's Options and the
// expectations --expect names (nil without it); every problem is a *config.InputError. Unbounded
// by both a count and a duration, the test sends DefaultRequests, or as many as --expect needs to
// decide at the given confidence and tolerance (SampleSize), whichever is more.
func (in *Inputs) Options(rawURL string) (Options, []Expectation, error) {
	if err := in.Validate(); err != nil {
		return Options{}, nil, err
	}
	target, err := TargetURL(rawURL)
	if err != nil {
		return Options{}, nil, err
	}
	header, err := in.header()
	if err != nil {
		return Options{}, nil, err
	}
	var want []Expectation
	if in.Expect != "" {
		if want, err = ParseExpect(in.Expect); err != nil {
			return Options{}, nil, &config.InputError{Input: flagExpect, Value: in.Expect,
				Allowed: "ANSWER=WEIGHT pairs separated by commas, weights not negative and not all 0 (" + err.Error() + ")"}
		}
	}
	o := Options{URL: target, Method: strings.ToUpper(in.Method), Header: header, Requests: in.Requests,
		Duration: in.Duration, Concurrency: in.Concurrency, Rate: in.Rate, Timeout: in.Timeout}
	if in.Data != "" {
		o.Body = []byte(in.Data)
	}
	if o.Requests == 0 && o.Duration == 0 {
		o.Requests = DefaultRequests
		if len(want) > 0 { // enough to decide, else --expect could only ever say "undecided"
			shares := make([]float64, len(want))
			for i, w := range want {
				shares[i] = w.Share
			}
			o.Requests = max(o.Requests, SampleSize(shares, in.Confidence, in.Tolerance/100))
		}
	}
	return o, want, nil
}

// Compare checks the tally against want at the inputs' confidence and tolerance; nil when nothing
// was expected or the test was interrupted (a partial tally decides nothing).
func (in *Inputs) Compare(t *Tally, want []Expectation) *Comparison {
	if want == nil || t.Interrupted {
		return nil
	}
	c := Compare(t, want, in.Confidence, in.Tolerance/100)
	return &c
}

// header builds the request headers from --header and --version.
func (in *Inputs) header() (http.Header, error) {
	h := http.Header{}
	for _, kv := range in.Headers {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, &config.InputError{Input: flagHeader, Value: kv, Allowed: "name=value, e.g. x-api-version=blue"}
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if in.Version != "" {
		if strings.TrimSpace(in.VersionHeader) == "" {
			return nil, &config.InputError{Input: flagVersionHeader, Value: in.VersionHeader, Allowed: "a header name, e.g. x-api-version"}
		}
		h.Set(in.VersionHeader, in.Version)
	}
	return h, nil
}

// TargetURL is the endpoint rawURL names, accepting the documented "$GATEWAY_IP/score" form by
// defaulting the scheme to http; anything but an http(s) URL with a host is a *config.InputError.
func TargetURL(rawURL string) (string, error) {
	s := strings.TrimSpace(rawURL)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &config.InputError{Input: inputURL, Value: config.RedactedURL(rawURL), Allowed: "an http(s) URL or HOST[:PORT]/PATH, e.g. 20.1.2.3/score"}
	}
	return u.String(), nil
}
