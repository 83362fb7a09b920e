// Package compare sends the same requests to blue and green through their header routes and
// compares the answers: labels and strings exactly, numbers within a tolerance, arrays element by
// element, only the selected fields when asked. It reports the share of requests that agree with a
// confidence interval, each numeric field's differences, a distribution-shift test of one numeric
// output, each version's invalid answers and latency, and the most divergent requests, and decides
// whether blue agrees with green within --max-disagreement. It streams the requests file and keeps
// only fixed-size state (counters, histograms, a top-k heap), so memory stays flat however many
// requests are sent.
package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/loadtest"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Names of `mlcanary compare`'s flags.
const (
	FlagGateway         = "gateway"
	FlagRequests        = "requests"
	flagPath            = "path"
	flagHeader          = config.FlagHeader
	flagHost            = "host"
	flagConcurrency     = "concurrency"
	flagRate            = "rate"
	flagTimeout         = "request-timeout"
	flagField           = "field"
	flagAbsTolerance    = "abs-tolerance"
	flagRelTolerance    = "rel-tolerance"
	flagShiftField      = "shift-field"
	flagTop             = "top"
	flagMaxDisagreement = "max-disagreement"
	flagConfidence      = "confidence"
	flagOutput          = "output"
)

// Report formats of `mlcanary compare --output`.
const (
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
)

// Inputs are `mlcanary compare`'s inputs as given, in the units a person types them (a percentage
// for --max-disagreement). Options validates them.
type Inputs struct {
	// Gateway is the gateway's address (required), e.g. 20.1.2.3 or http://20.1.2.3:80.
	Gateway string
	// Requests is the JSON Lines file of requests (required), - for standard input.
	Requests string
	// Path is the path of a request whose line gives none; Header the routing header; Host, when set,
	// the Host header.
	Path, Header, Host string
	// Concurrency is the lines in flight (1 to 10000); Rate caps lines per second (0: none); Timeout
	// bounds each request (> 0).
	Concurrency int
	Rate        float64
	Timeout     time.Duration
	// Fields are the --field paths (none: the whole answer); ShiftField the numeric output tested for a
	// shift ("": the first numeric field).
	Fields     []string
	ShiftField string
	// AbsTolerance and RelTolerance (0 or more) are Tolerance's.
	AbsTolerance, RelTolerance float64
	// Top is how many divergent requests the report shows (0 to 1000).
	Top int
	// MaxDisagreement is a percentage in (0, 100); Confidence a fraction in [0.5, 1).
	MaxDisagreement, Confidence float64
	// Output is the report's format: FormatMarkdown or FormatJSON.
	Output string
}

// NewInputs returns the inputs with the documented defaults: /score through x-api-version, 10
// lines in flight, 10s per request, numbers equal within a relative 1e-9 (math.isclose's default),
// the 10 most divergent requests, at most 1% disagreement at 99% confidence, a Markdown report.
func NewInputs() Inputs {
	d := config.Default()
	return Inputs{Path: d.URIPrefix, Header: d.Header, Concurrency: 10, Timeout: 10 * time.Second, RelTolerance: 1e-9,
		Top: 10, MaxDisagreement: 1, Confidence: 0.99, Output: FormatMarkdown}
}

// AddFlags binds the inputs to fs under `mlcanary compare`'s flag names, with NewInputs' defaults.
func (in *Inputs) AddFlags(fs *pflag.FlagSet) {
	d := NewInputs()
	fs.StringVar(&in.Gateway, FlagGateway, d.Gateway, "the gateway's address, e.g. 20.1.2.3 or http://20.1.2.3:80 (required)")
	fs.StringVar(&in.Requests, FlagRequests, d.Requests, `JSON Lines file of requests, - for standard input (required): a JSON body per line, or {"body": …, "headers": {…}, "path": "/score"}`)
	fs.StringVar(&in.Path, flagPath, d.Path, "path of the requests whose line gives none")
	fs.StringVar(&in.Header, flagHeader, d.Header, "routing header whose value blue or green reaches that version")
	fs.StringVar(&in.Host, flagHost, d.Host, "Host header to send (a gateway serving named hosts routes on it)")
	config.WholeVarP(fs, &in.Concurrency, flagConcurrency, "c", d.Concurrency, allowedConcurrency, "requests in flight at once, each sent to both versions at the same time")
	config.DecimalVar(fs, &in.Rate, flagRate, d.Rate, allowedRate, "requests per second, each sent to both versions (0: as fast as answered)")
	config.DurationVarP(fs, &in.Timeout, flagTimeout, "", d.Timeout, allowedTimeout, "per-request timeout")
	fs.StringArrayVar(&in.Fields, flagField, d.Fields, "JSON path of a field to compare, e.g. label or $.predictions[0].score (repeatable; default: the whole answer)")
	fs.StringVar(&in.ShiftField, flagShiftField, d.ShiftField, "numeric output whose distributions are compared (two-sample Kolmogorov–Smirnov; default: the first numeric field)")
	config.DecimalVar(fs, &in.AbsTolerance, flagAbsTolerance, d.AbsTolerance, allowedTolerance, "numbers agree when |a−b| ≤ max(rel-tolerance·max(|a|,|b|), abs-tolerance)")
	config.DecimalVar(fs, &in.RelTolerance, flagRelTolerance, d.RelTolerance, allowedTolerance, "relative tolerance of numbers (see --abs-tolerance)")
	config.WholeVarP(fs, &in.Top, flagTop, "k", d.Top, allowedTop, "how many of the most divergent requests to show")
	config.DecimalVar(fs, &in.MaxDisagreement, flagMaxDisagreement, d.MaxDisagreement, allowedMaxDisagreement, "percentage of requests that may disagree and blue still agrees")
	config.DecimalVar(fs, &in.Confidence, flagConfidence, d.Confidence, allowedConfidence, "confidence of the decision, between 0.5 and 1")
	config.ChoiceVarP(fs, &in.Output, flagOutput, "o", d.Output, "report format: markdown or json", FormatMarkdown, FormatJSON)
}

// What each input allows, said the same way whether its value does not parse (the flag refuses it)
// or is out of range (Validate refuses it).
const (
	allowedConcurrency = "a whole number from 1 to 10000"
	allowedRate        = "requests per second, 0 or more"
	allowedTimeout     = "a duration above 0, e.g. 10s"
	allowedTolerance   = "a number of 0 or more, e.g. 1e-6"
	allowedTop         = "a whole number from 0 to 1000"
	allowedConfidence  = "a fraction from 0.5 to below 1, e.g. 0.99"
	allowedGateway     = "the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3"
	allowedPath        = "a path starting with /, e.g. /score"
	allowedField       = "a JSON path of member names and [N] indices, e.g. label, $.scores[0] or [\"a.b\"]"
)

// Validate checks every input on its own but the requests file (Prepare reads it); the first bad
// one is a *config.InputError naming its flag and what is allowed.
func (in *Inputs) Validate() error {
	bad := func(input, value, allowed string) error {
		return &config.InputError{Input: input, Value: value, Allowed: allowed}
	}
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	switch {
	case strings.TrimSpace(in.Gateway) == "" || !verify.GatewayAddress(in.Gateway):
		return bad(FlagGateway, verify.RedactedAddress(in.Gateway), allowedGateway)
	case strings.TrimSpace(in.Requests) == "":
		return bad(FlagRequests, in.Requests, "a JSON Lines file of requests, or - for standard input")
	case !strings.HasPrefix(in.Path, "/") || strings.ContainsAny(in.Path, " \t\r\n?#"):
		return bad(flagPath, in.Path, allowedPath)
	case !validHeaderName(in.Header):
		return bad(flagHeader, in.Header, "a header name, e.g. x-api-version")
	case strings.ContainsAny(in.Host, " \t\r\n/"):
		return bad(flagHost, in.Host, "a host name, e.g. scoring.example.com")
	case in.Concurrency < 1 || in.Concurrency > 10000:
		return bad(flagConcurrency, fmt.Sprint(in.Concurrency), allowedConcurrency)
	case !(in.Rate >= 0 && finite(in.Rate)):
		return bad(flagRate, fmt.Sprint(in.Rate), allowedRate)
	case in.Timeout <= 0:
		return bad(flagTimeout, in.Timeout.String(), allowedTimeout)
	case !(in.AbsTolerance >= 0 && finite(in.AbsTolerance)):
		return bad(flagAbsTolerance, fmt.Sprint(in.AbsTolerance), allowedTolerance)
	case !(in.RelTolerance >= 0 && finite(in.RelTolerance)):
		return bad(flagRelTolerance, fmt.Sprint(in.RelTolerance), allowedTolerance)
	case in.Top < 0 || in.Top > 1000:
		return bad(flagTop, fmt.Sprint(in.Top), allowedTop)
	case !(in.Confidence >= 0.5 && in.Confidence < 1):
		return bad(flagConfidence, fmt.Sprint(in.Confidence), allowedConfidence)
	case !(in.MaxDisagreement > SmallestMaxDisagreement(in.Confidence) && in.MaxDisagreement < 100):
		return bad(flagMaxDisagreement, fmt.Sprint(in.MaxDisagreement), allowedMaxDisagreementAt(in.Confidence))
	case in.Output != FormatMarkdown && in.Output != FormatJSON:
		return bad(flagOutput, in.Output, "markdown or json")
	}
	return nil
}

// allowedMaxDisagreement is what --max-disagreement allows at the default confidence, for a value
// that does not parse.
var allowedMaxDisagreement = allowedMaxDisagreementAt(NewInputs().Confidence)

// allowedMaxDisagreementAt is what --max-disagreement allows at confidence: a percentage below 100
// and above SmallestMaxDisagreement (with 0, or less than that, no number of answers could prove
// blue agrees).
func allowedMaxDisagreementAt(confidence float64) string {
	return fmt.Sprintf("a percentage above %s and below 100, e.g. 1 (at confidence %g a smaller one would take more than "+
		"10⁹ requests that all agree to prove blue agrees)", ceilDigits(SmallestMaxDisagreement(confidence), 3), confidence)
}

// MaxProvingRequests is the most compared requests a --max-disagreement may need to prove agreement:
// a thousand million, about 12 days at 1000 requests per second, far beyond any requests file a
// pipeline sends. A maximum that even this many answers, all alike, could not prove is bad input,
// like 0 is: every comparison would end undecided.
const MaxProvingRequests = 1e9

// SmallestMaxDisagreement is the --max-disagreement (a percentage) at or below which blue could not
// be proved to agree at confidence even by MaxProvingRequests compared requests that all agree: the
// upper end of their disagreement's Wilson interval (0 of n disagree: z²/(n + z²), 6.6e-7 % at 0.99),
// computed by the same loadtest.Wilson the decision uses. The decision agrees only when that end is
// below the maximum, so the allowed maximum starts above it.
func SmallestMaxDisagreement(confidence float64) float64 {
	return 100 * loadtest.Wilson(0, int(MaxProvingRequests), loadtest.Z(confidence, 1)).High
}

// ceilDigits formats x > 0 with digits significant digits, rounded up, so that the number shown is
// itself allowed.
func ceilDigits(x float64, digits int) string {
	scale := math.Pow(10, float64(digits-1)-math.Floor(math.Log10(x)))
	up := math.Ceil(x*scale) / scale
	if up <= x {
		up = math.Nextafter(up, math.Inf(1))
	}
	return strconv.FormatFloat(up, 'g', -1, 64)
}

// Options validates the inputs into a comparison's Options (every problem a *config.InputError):
// the paths parsed, the percentage a fraction.
func (in *Inputs) Options() (Options, error) {
	if err := in.Validate(); err != nil {
		return Options{}, err
	}
	o := Options{Gateway: verify.BaseURL(in.Gateway), Path: in.Path, Host: in.Host, Header: in.Header,
		Concurrency: in.Concurrency, Rate: in.Rate, Timeout: in.Timeout, Top: in.Top,
		Tolerance:       Tolerance{Abs: in.AbsTolerance, Rel: in.RelTolerance},
		MaxDisagreement: in.MaxDisagreement / 100, Confidence: in.Confidence}
	for _, f := range in.Fields {
		p, err := ParsePath(f)
		if err != nil {
			return Options{}, &config.InputError{Input: flagField, Value: f, Allowed: allowedField + " (" + err.Error() + ")"}
		}
		o.Fields = append(o.Fields, p)
	}
	if in.ShiftField != "" {
		p, err := ParsePath(in.ShiftField)
		if err != nil {
			return Options{}, &config.InputError{Input: flagShiftField, Value: in.ShiftField, Allowed: allowedField + " (" + err.Error() + ")"}
		}
		o.ShiftField = p.Canonical()
		if !within(o.ShiftField, o.Fields) {
			var names []string
			for _, f := range o.Fields {
				names = append(names, f.Text)
			}
			return Options{}, &config.InputError{Input: flagShiftField, Value: in.ShiftField,
				Allowed: fmt.Sprintf("a numeric field inside a --field (%s): only the selected fields are compared", strings.Join(names, ", "))}
		}
	}
	return o, nil
}

// within reports whether the field at canonical path shift is compared under fields (all of the
// answer when there are none): it is one of them or inside one.
func within(shift string, fields []Path) bool {
	if len(fields) == 0 {
		return true
	}
	for _, f := range fields {
		c := f.Canonical()
		if c == "$" || shift == c || strings.HasPrefix(shift, c+".") || strings.HasPrefix(shift, c+"[") {
			return true
		}
	}
	return false
}
