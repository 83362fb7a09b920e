package verify

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Names of `mlcanary verify`'s own flags (the cluster's names come from config.Inputs).
const (
	flagGateway       = "gateway"
	flagAnswerGreen   = "answer-green"
	flagAnswerBlue    = "answer-blue"
	flagRequests      = "requests"
	flagRouteRequests = "route-requests"
	flagConcurrency   = "concurrency"
	flagTimeout       = "request-timeout"
	flagConfidence    = "confidence"
	flagTolerance     = "tolerance"
	flagMaxErrors     = "max-errors"
	flagOutput        = "output"
)

// Report formats of `mlcanary verify --output`.
const (
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
)

// Inputs are `mlcanary verify`'s own inputs as given, in the units a person types them
// (percentages, not fractions). Validate checks them and Options turns them into verify's Options;
// StageInputs fills them for a stage front end, so every front end validates verify's inputs alike.
type Inputs struct {
	// Gateway is the ingress gateway's address (required), e.g. 20.1.2.3 or http://20.1.2.3:80, or
	// AutoGateway to read it from the ingress gateway Service's load balancer.
	Gateway string
	// AnswerGreen and AnswerBlue identify the versions; "" learns them through the header routes.
	AnswerGreen, AnswerBlue string
	// Requests and RouteRequests are per default route and per header route; 0 is enough to decide.
	Requests, RouteRequests int
	// Concurrency is the requests in flight at once (1 to 10000); Timeout is per request (> 0).
	Concurrency int
	Timeout     time.Duration
	// Confidence is a fraction in [0.5, 1); Tolerance (in (0, 100)) and MaxErrors ([0, 100]) are in
	// percentage points.
	Confidence, Tolerance, MaxErrors float64
	// Output is the report's format: FormatMarkdown or FormatJSON.
	Output string
}

// NewInputs returns the inputs with the documented defaults: 10 in flight, 10s per request, 99%
// confidence, 5 points of tolerance, 1% errors, a Markdown report.
func NewInputs() Inputs {
	return Inputs{Concurrency: DefaultConcurrency, Timeout: DefaultTimeout, Confidence: DefaultConfidence,
		Tolerance: DefaultTolerance, MaxErrors: DefaultMaxErrors, Output: FormatMarkdown}
}

// AddFlags binds the inputs to fs under `mlcanary verify`'s flag names, with NewInputs' defaults.
func (in *Inputs) AddFlags(fs *pflag.FlagSet) {
	d := NewInputs()
	config.ChoiceVarP(fs, &in.Gateway, flagGateway, "", d.Gateway, "the ingress gateway's address, e.g. 20.1.2.3 or http://20.1.2.3:80, or auto to read it from the ingress gateway Service's load balancer (required)", AutoGateway)
	fs.StringVar(&in.AnswerGreen, flagAnswerGreen, d.AnswerGreen, "the answer that identifies green (default: ask green's header route)")
	fs.StringVar(&in.AnswerBlue, flagAnswerBlue, d.AnswerBlue, "the answer that identifies blue (default: ask blue's header route)")
	config.WholeVarP(fs, &in.Requests, flagRequests, "", d.Requests, allowedRequests, "requests to the default route (0: enough to decide at --confidence and --tolerance)")
	config.WholeVarP(fs, &in.RouteRequests, flagRouteRequests, "", d.RouteRequests, allowedRequests, "requests to each header route (0: enough to decide)")
	config.WholeVarP(fs, &in.Concurrency, flagConcurrency, "c", d.Concurrency, allowedConcurrency, "requests in flight at once")
	config.DurationVarP(fs, &in.Timeout, flagTimeout, "", d.Timeout, allowedTimeout, "per-request timeout")
	config.DecimalVar(fs, &in.Confidence, flagConfidence, d.Confidence, allowedConfidence, "joint confidence of each comparison, between 0.5 and 1")
	config.DecimalVar(fs, &in.Tolerance, flagTolerance, d.Tolerance, allowedTolerance, "percentage points a share may be off from its weight and still agree")
	config.DecimalVar(fs, &in.MaxErrors, flagMaxErrors, d.MaxErrors, allowedMaxErrors, "percentage of failed requests a check accepts")
	config.ChoiceVarP(fs, &in.Output, flagOutput, "o", d.Output, "report format: markdown or json", FormatMarkdown, FormatJSON)
}

// What each numeric input allows, said the same way whether its value does not parse (the flag
// refuses it) or is out of range (Validate refuses it).
const (
	allowedRequests    = "a whole number, 0 (enough to decide) or more"
	allowedConcurrency = "a whole number from 1 to 10000"
	allowedTimeout     = "a duration above 0, e.g. 10s"
	allowedConfidence  = "a fraction from 0.5 to below 1, e.g. 0.99"
	allowedTolerance   = "percentage points above 0 and below 100, e.g. 5"
	allowedMaxErrors   = "a percentage from 0 to 100"
)

// Validate checks every input on its own, the gateway first; the first bad one is a
// *config.InputError naming its flag and what is allowed. A gateway address with a password is
// shown redacted.
func (in *Inputs) Validate() error {
	bad := func(input, value, allowed string) error {
		return &config.InputError{Input: input, Value: value, Allowed: allowed}
	}
	switch {
	case strings.TrimSpace(in.Gateway) == "":
		return bad(flagGateway, in.Gateway, "the ingress gateway's address, e.g. 20.1.2.3, or auto (read from its Service)")
	case in.Gateway == AutoGateway:
	case !GatewayAddress(in.Gateway):
		return bad(flagGateway, RedactedAddress(in.Gateway), "the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths), or auto (read from its Service)")
	case in.Requests < 0:
		return bad(flagRequests, fmt.Sprint(in.Requests), allowedRequests)
	case in.RouteRequests < 0:
		return bad(flagRouteRequests, fmt.Sprint(in.RouteRequests), allowedRequests)
	case in.Concurrency < 1 || in.Concurrency > 10000:
		return bad(flagConcurrency, fmt.Sprint(in.Concurrency), allowedConcurrency)
	case in.Timeout <= 0:
		return bad(flagTimeout, in.Timeout.String(), allowedTimeout)
	case !(in.Confidence >= 0.5 && in.Confidence < 1): // written so NaN fails too
		return bad(flagConfidence, fmt.Sprint(in.Confidence), allowedConfidence)
	case !(in.Tolerance > 0 && in.Tolerance < 100):
		return bad(flagTolerance, fmt.Sprint(in.Tolerance), allowedTolerance)
	case !(in.MaxErrors >= 0 && in.MaxErrors <= 100):
		return bad(flagMaxErrors, fmt.Sprint(in.MaxErrors), allowedMaxErrors)
	case in.Output != FormatMarkdown && in.Output != FormatJSON:
		return bad(flagOutput, in.Output, "markdown or json")
	}
	return nil
}

// Options validates the inputs into verify's Options for routes that serve hosts (the first exact
// one is sent as the Host header): percentages become fractions, and an answer left empty is
// learned through its header route.
func (in *Inputs) Options(hosts []string) (Options, error) {
	if err := in.Validate(); err != nil {
		return Options{}, err
	}
	answers := map[config.Version]string{}
	if in.AnswerGreen != "" {
		answers[config.Green] = in.AnswerGreen
	}
	if in.AnswerBlue != "" {
		answers[config.Blue] = in.AnswerBlue
	}
	return Options{
		Gateway: in.Gateway, Host: ExactHost(hosts), Answers: answers, Requests: in.Requests, RouteRequests: in.RouteRequests,
		Concurrency: in.Concurrency, Timeout: in.Timeout, Confidence: in.Confidence,
		Tolerance: in.Tolerance / 100, MaxErrorShare: in.MaxErrors / 100,
	}, nil
}
