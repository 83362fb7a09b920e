// Package analyze is the analysis gate behind `mlcanary analyze`: it measures blue and green
// (internal/istioprom) from the moment the split last changed, judges them (internal/analysis) at
// every interval until the verdict is decided or the window is used up, and reports the evidence:
// per version counts, shares and intervals, the decision and its reason, the queries, the endpoint
// and the window.
package analyze

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Names of `mlcanary analyze`'s own flags (the objects' names come from config.Inputs).
const (
	flagPrometheusURL    = "prometheus-url"
	flagTokenFile        = "prometheus-token-file"
	flagUser             = "prometheus-user"
	flagPasswordFile     = "prometheus-password-file"
	flagLabels           = "prometheus-labels"
	flagWindow           = "window"
	flagInterval         = "interval"
	flagSince            = "since"
	flagLatencySLO       = "latency-slo"
	flagMaxErrorIncrease = "max-error-increase"
	flagMaxSlowIncrease  = "max-slow-increase"
	flagConfidence       = "confidence"
	flagOutput           = "output"
	flagSource           = "source"
	flagGateway          = "gateway"
	flagRate             = "rate"
	flagConcurrency      = "concurrency"
	flagMethod           = "method"
	flagData             = "data"
)

// The inputs through which a CI front end (the Azure DevOps task, the GitHub Action) takes the
// Prometheus API's credentials as values, from secrets; the CLI takes only files.
const (
	InputToken    = "prometheus-token"
	InputPassword = "prometheus-password"
)

// secretShown stands for a secret's value in a message.
const secretShown = "(secret, not shown)"

// Sources of `mlcanary analyze --source`.
const (
	SourcePrometheus = "prometheus"
	SourceLoadtest   = "loadtest"
)

// Report formats of `mlcanary analyze --output`.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// Inputs are `mlcanary analyze`'s own inputs as given, in the units a person types them
// (percentage points, not fractions).
type Inputs struct {
	// PrometheusURL is the Prometheus HTTP API's base URL (required), without credentials.
	PrometheusURL string
	// TokenFile holds a bearer token; Username with PasswordFile is basic auth. At most one of them.
	TokenFile, Username, PasswordFile string
	// Token and Password are the credentials as values, from a CI front end's secret inputs
	// (InputToken, InputPassword; SetSecrets), used when their file is not given. No flag sets them:
	// a command line is visible to every process on the machine.
	Token, Password string
	// secretValues says a front end takes Token and Password as values, so messages name those inputs.
	secretValues bool
	// Labels are PromQL label matchers separated by commas added to every query
	// (istioprom.ParseMatchers), e.g. cluster="aks-prod" for one cluster of a shared workspace.
	Labels string
	// Window bounds the data judged, from the split's last change; Interval is the time between looks.
	Window, Interval time.Duration
	// Since is when the split last changed, RFC 3339; "" reads it from the VirtualService's record.
	Since string
	// LatencySLO is the duration above which a request is slow.
	LatencySLO time.Duration
	// MaxErrorIncrease and MaxSlowIncrease are percentage points blue's share may exceed green's.
	MaxErrorIncrease, MaxSlowIncrease float64
	// Confidence is a fraction in [0.5, 1).
	Confidence float64
	// Output is FormatText or FormatJSON.
	Output string
	// Source is SourcePrometheus (Istio's metrics) or SourceLoadtest (paired load through Gateway's
	// header routes at Rate requests per second to each version, Concurrency in flight each).
	Source      string
	Gateway     string
	Rate        float64
	Concurrency int
	// Method (GET or POST, any case) and Data (the body, "" for none) are the paired load's request:
	// the model's real scoring request, as `mlcanary loadtest --method --data` sends it.
	Method, Data string
	// Split is the split the judged window ran at (no input: the stage's result or status reads it);
	// the zero value is unknown.
	Split Split
}

// NewInputs returns the documented defaults: a 10m window, a look every 30s, 1s latency SLO, 1 point
// of margin on each share at 99% confidence, a text report.
func NewInputs() Inputs {
	return Inputs{Window: 10 * time.Minute, Interval: 30 * time.Second, LatencySLO: time.Second,
		MaxErrorIncrease: 1, MaxSlowIncrease: 1, Confidence: 0.99, Output: FormatText,
		Source: SourcePrometheus, Rate: 10, Concurrency: 10, Method: http.MethodGet}
}

// AddFlags binds the inputs to fs under `mlcanary analyze`'s flag names, with NewInputs' defaults.
func (in *Inputs) AddFlags(fs *pflag.FlagSet) {
	d := NewInputs()
	in.addShared(fs, flagGateway)
	fs.StringVar(&in.Since, flagSince, d.Since, "when the split last changed, RFC 3339 (default: the VirtualService's mlcanary.io/changed-at record, read from the cluster)")
	config.ChoiceVarP(fs, &in.Output, flagOutput, "o", d.Output, "report format: text or json", FormatText, FormatJSON)
}

// addShared binds the inputs `mlcanary analyze` and `mlcanary stage --analysis` share, with the
// paired load's gateway address under gateway (a stage has its own --gateway: the Istio Gateway).
func (in *Inputs) addShared(fs *pflag.FlagSet, gateway string) {
	d := NewInputs()
	*in = d
	fs.StringVar(&in.PrometheusURL, flagPrometheusURL, d.PrometheusURL, "the Prometheus HTTP API's URL, e.g. http://prometheus.istio-system:9090 (required)")
	fs.StringVar(&in.TokenFile, flagTokenFile, d.TokenFile, "file holding a bearer token for the Prometheus API (read at each request, never printed)")
	fs.StringVar(&in.Username, flagUser, d.Username, "user name for basic auth to the Prometheus API (with --"+flagPasswordFile+")")
	fs.StringVar(&in.PasswordFile, flagPasswordFile, d.PasswordFile, "file holding the basic-auth password (read at each request, never printed)")
	fs.StringVar(&in.Labels, flagLabels, d.Labels, `label matchers added to every query, separated by commas, e.g. cluster="aks-prod" to measure one cluster of a workspace that holds several`)
	config.DurationVarP(fs, &in.Window, flagWindow, "", d.Window, allowedWindow, "at most this much traffic since the split last changed is judged, e.g. 10m")
	config.DurationVarP(fs, &in.Interval, flagInterval, "", d.Interval, allowedInterval, "time between looks until the verdict is decided, e.g. 30s")
	config.DurationVarP(fs, &in.LatencySLO, flagLatencySLO, "", d.LatencySLO, allowedSLO, "a request slower than this is slow, counted at the smallest histogram boundary at or above it")
	config.DecimalVar(fs, &in.MaxErrorIncrease, flagMaxErrorIncrease, d.MaxErrorIncrease, allowedIncrease, "percentage points blue's error share may exceed green's and still pass")
	config.DecimalVar(fs, &in.MaxSlowIncrease, flagMaxSlowIncrease, d.MaxSlowIncrease, allowedIncrease, "percentage points blue's slow share may exceed green's and still pass")
	config.DecimalVar(fs, &in.Confidence, flagConfidence, d.Confidence, allowedConfidence, "confidence of the verdict, however many looks it takes, between 0.5 and 1")
	config.ChoiceVarP(fs, &in.Source, flagSource, "", d.Source, "what is measured: prometheus (Istio's metrics at --prometheus-url) or loadtest (paired requests through --"+gateway+")", SourcePrometheus, SourceLoadtest)
	fs.StringVar(&in.Gateway, gateway, d.Gateway, "with --source loadtest: the ingress gateway's address, e.g. 20.1.2.3 or http://20.1.2.3:80")
	config.DecimalVar(fs, &in.Rate, flagRate, d.Rate, allowedRate, "with --source loadtest: requests per second to each version")
	config.WholeVarP(fs, &in.Concurrency, flagConcurrency, "c", d.Concurrency, allowedConcurrency, "with --source loadtest: requests in flight to each version")
	fs.StringVar(&in.Method, flagMethod, d.Method, "with --source loadtest: the HTTP method of the model's scoring request, GET or POST")
	fs.StringVar(&in.Data, flagData, d.Data, "with --source loadtest: the body of every request, e.g. '{\"instances\":[[1,2]]}' (sent as application/json when it is JSON)")
}

// What each input allows, said the same way whether its value does not parse or is out of range.
const (
	allowedURL         = "the Prometheus HTTP API's http(s) URL without credentials or query, e.g. http://prometheus.istio-system:9090"
	allowedWindow      = "a duration from 1m to 24h, e.g. 10m"
	allowedInterval    = "a duration from 1s up to {window}, e.g. 30s"
	allowedSLO         = "a duration above 0, e.g. 1s"
	allowedIncrease    = "percentage points from 0 to below 100, e.g. 1"
	allowedConfidence  = "a fraction from 0.5 to below 1, e.g. 0.99"
	allowedRate        = "requests per second above 0, e.g. 10"
	allowedConcurrency = "a whole number from 1 to 10000"
	allowedSince       = "a time in RFC 3339, e.g. 2026-11-29T12:00:00Z, or empty to read the VirtualService's record"
	allowedLabels      = `PromQL label matchers separated by commas, e.g. cluster="aks-prod"`
)

// Validate checks every input on its own; the first bad one is a *config.InputError naming it and
// what is allowed. A URL with a password is shown redacted; a file is checked by its first read.
func (in *Inputs) Validate() error {
	bad := func(input, value, allowed string) error {
		return &config.InputError{Input: input, Value: value, Allowed: allowed}
	}
	switch {
	case in.Source != SourcePrometheus && in.Source != SourceLoadtest:
		return bad(flagSource, in.Source, "prometheus or loadtest")
	case in.Source == SourceLoadtest && !verify.GatewayAddress(in.Gateway):
		return bad(flagGateway, verify.RedactedAddress(in.Gateway), "with {source} loadtest, the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3")
	case in.Source == SourceLoadtest && !(in.Rate > 0 && !math.IsInf(in.Rate, 0)):
		return bad(flagRate, fmt.Sprint(in.Rate), allowedRate)
	case strings.ToUpper(in.Method) != http.MethodGet && strings.ToUpper(in.Method) != http.MethodPost:
		return bad(flagMethod, in.Method, "GET or POST")
	case in.Concurrency < 1 || in.Concurrency > 10000:
		return bad(flagConcurrency, fmt.Sprint(in.Concurrency), allowedConcurrency)
	case in.Source == SourcePrometheus && !apiURL(in.PrometheusURL):
		return bad(flagPrometheusURL, istioprom.Redact(in.PrometheusURL), allowedURL)
	case in.TokenFile != "" && in.Token != "":
		return bad(flagTokenFile, in.TokenFile, "a bearer token file, or the token itself in {"+InputToken+"}, not both")
	case in.PasswordFile != "" && in.Password != "":
		return bad(flagPasswordFile, in.PasswordFile, "a password file, or the password itself in {"+InputPassword+"}, not both")
	case in.TokenFile != "" && (in.Username != "" || in.PasswordFile != "" || in.Password != ""):
		return bad(flagTokenFile, in.TokenFile, "a bearer token file, or basic auth with {"+flagUser+"} and {"+flagPasswordFile+"}, not both")
	case in.Token != "" && (in.Username != "" || in.PasswordFile != "" || in.Password != ""):
		return bad(InputToken, secretShown, "a bearer token, or basic auth with {"+flagUser+"} and {"+InputPassword+"}, not both")
	case in.Username != "" && in.PasswordFile == "" && in.Password == "" && in.secretValues:
		return bad(InputPassword, "", "{"+flagUser+"}'s password (a secret variable), or the file holding it in {"+flagPasswordFile+"}")
	case in.Username != "" && in.PasswordFile == "" && in.Password == "":
		return bad(flagPasswordFile, in.PasswordFile, "the file holding {"+flagUser+"}'s password")
	case (in.PasswordFile != "" || in.Password != "") && in.Username == "":
		return bad(flagUser, in.Username, "the user name the password belongs to")
	case in.Window < time.Minute || in.Window > 24*time.Hour:
		return bad(flagWindow, in.Window.String(), allowedWindow)
	case in.Interval < time.Second || in.Interval > in.Window:
		return bad(flagInterval, in.Interval.String(), allowedInterval)
	case in.LatencySLO <= 0:
		return bad(flagLatencySLO, in.LatencySLO.String(), allowedSLO)
	case !(in.MaxErrorIncrease >= 0 && in.MaxErrorIncrease < 100): // written so NaN fails too
		return bad(flagMaxErrorIncrease, fmt.Sprint(in.MaxErrorIncrease), allowedIncrease)
	case !(in.MaxSlowIncrease >= 0 && in.MaxSlowIncrease < 100):
		return bad(flagMaxSlowIncrease, fmt.Sprint(in.MaxSlowIncrease), allowedIncrease)
	case !(in.Confidence >= 0.5 && in.Confidence < 1):
		return bad(flagConfidence, fmt.Sprint(in.Confidence), allowedConfidence)
	case in.Output != FormatText && in.Output != FormatJSON:
		return bad(flagOutput, in.Output, "text or json")
	}
	if _, err := in.Matchers(); err != nil {
		return err
	}
	if _, err := in.ChangedAt(); err != nil {
		return err
	}
	return nil
}

// Matchers are --prometheus-labels parsed, as PromQL; a bad one is a *config.InputError saying why.
func (in *Inputs) Matchers() ([]string, error) {
	m, err := istioprom.ParseMatchers(in.Labels)
	if err != nil {
		return nil, &config.InputError{Input: flagLabels, Value: in.Labels, Allowed: allowedLabels + " (" + err.Error() + ")"}
	}
	return m, nil
}

// ChangedAt is --since parsed; the zero time when it is empty.
func (in *Inputs) ChangedAt() (time.Time, error) {
	if strings.TrimSpace(in.Since) == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(in.Since))
	if err != nil {
		return time.Time{}, &config.InputError{Input: flagSince, Value: in.Since, Allowed: allowedSince}
	}
	return t, nil
}

// apiURL reports whether s is an absolute http(s) URL with a host and no credentials, query or
// fragment (credentials go in files, where no log shows them).
func apiURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		u.RawQuery == "" && u.Fragment == "" && strings.TrimSpace(s) == s
}

// NeedsCluster reports whether the change record must be read from the cluster: Istio's metrics
// without --since. Paired load measures its own traffic from the moment it starts.
func (in *Inputs) NeedsCluster() bool {
	return in.Source == SourcePrometheus && strings.TrimSpace(in.Since) == ""
}
