package verify

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Names of the inputs that ask a stage front end (the Azure DevOps task, the GitHub Action) to
// verify traffic right after the stage. The answers keep the CLI verify flags' names; the gateway,
// requests and tolerance are prefixed, because a stage already has a --gateway (the Istio
// Gateway's name) and the prefix says which step they tune.
const (
	FlagGateway     = "verify-gateway"
	FlagAnswerGreen = "answer-green"
	FlagAnswerBlue  = "answer-blue"
	FlagRequests    = "verify-requests"
	FlagTolerance   = "verify-tolerance"
)

// The CLI verify defaults a stage front end keeps for the knobs it does not expose.
const (
	DefaultConcurrency = 10
	DefaultTimeout     = 10 * time.Second
	DefaultConfidence  = 0.99
	DefaultTolerance   = 5.0 // percentage points
	DefaultMaxErrors   = 1.0 // percent
)

// StageInputs are the verification inputs of a stage front end, bound to a FlagSet so they are
// parsed like every other input; an empty gateway means no verification.
type StageInputs struct {
	Gateway, AnswerGreen, AnswerBlue string
	Requests                         int
	Tolerance                        float64
}

// AddFlags binds the inputs to fs under the Flag* names, with the CLI verify defaults.
func (in *StageInputs) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&in.Gateway, FlagGateway, "", "verify traffic through this ingress gateway address after the stage (empty: no verification)")
	fs.StringVar(&in.AnswerGreen, FlagAnswerGreen, "", "the answer that identifies green (default: ask green's header route)")
	fs.StringVar(&in.AnswerBlue, FlagAnswerBlue, "", "the answer that identifies blue (default: ask blue's header route)")
	fs.IntVar(&in.Requests, FlagRequests, 0, "requests to the default route when verifying (0: enough to decide)")
	fs.Float64Var(&in.Tolerance, FlagTolerance, DefaultTolerance, "percentage points a share may be off from its weight when verifying")
}

// Options validates the inputs into verify's options for routes serving hosts; nil means no
// verification was asked for. A bad value is a *config.InputError naming the input.
func (in *StageInputs) Options(hosts []string) (*Options, error) {
	if strings.TrimSpace(in.Gateway) == "" {
		return nil, nil
	}
	bad := func(input, value, allowed string) error {
		return &config.InputError{Input: input, Value: value, Allowed: allowed}
	}
	switch {
	case !GatewayAddress(in.Gateway):
		return nil, bad(FlagGateway, RedactedAddress(in.Gateway), "the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3 (verify adds the route paths)")
	case in.Requests < 0:
		return nil, bad(FlagRequests, fmt.Sprint(in.Requests), "0 (enough to decide) or more")
	case in.Tolerance <= 0 || in.Tolerance >= 100:
		return nil, bad(FlagTolerance, fmt.Sprint(in.Tolerance), "percentage points above 0 and below 100, e.g. 5")
	}
	answers := map[config.Version]string{}
	if in.AnswerGreen != "" {
		answers[config.Green] = in.AnswerGreen
	}
	if in.AnswerBlue != "" {
		answers[config.Blue] = in.AnswerBlue
	}
	return &Options{
		Gateway: in.Gateway, Host: ExactHost(hosts), Answers: answers, Requests: in.Requests,
		Concurrency: DefaultConcurrency, Timeout: DefaultTimeout, Confidence: DefaultConfidence,
		Tolerance: in.Tolerance / 100, MaxErrorShare: DefaultMaxErrors / 100,
	}, nil
}

// RedactedAddress is a gateway address as it may be printed in an error: a password in it shows as
// xxxxx (url.URL.Redacted), and an address that does not parse but may hold credentials is not shown.
func RedactedAddress(raw string) string {
	u, err := url.Parse(BaseURL(raw))
	switch {
	case err != nil && strings.Contains(raw, "@"):
		return "(not shown: it may hold credentials)"
	case err != nil || u.User == nil:
		return raw
	}
	return u.Redacted()
}

// GatewayAddress reports whether raw is a gateway address verify can use: an http(s) URL or a bare
// HOST[:PORT], with no path (verify adds the route paths itself) and no credentials (the address is
// printed in logs and summaries).
func GatewayAddress(raw string) bool {
	u, err := url.Parse(BaseURL(raw))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		strings.Trim(u.Path, "/") == "" && u.RawQuery == ""
}

// ExactHost is the first host the routes serve that is not a wildcard, sent as the Host header so a
// gateway serving named hosts routes the requests; "" keeps the gateway address as the host.
func ExactHost(hosts []string) string {
	for _, h := range hosts {
		if !strings.Contains(h, "*") {
			return h
		}
	}
	return ""
}
