package compare

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Names of the stage front ends' comparison inputs (the Azure DevOps task's compareRequests,
// compareFields, …; the GitHub Action's compare-requests, compare-fields, …): prefixed, because they
// tune the step after the stage, as verify-gateway does. Each but the file is the CLI's flag of the
// same name after "compare-" (compare-concurrency for -c), validated by the same rule (Inputs.Validate).
const (
	FlagStageRequests        = "compare-requests"
	FlagStageFields          = "compare-fields"
	FlagStageAbsTolerance    = "compare-abs-tolerance"
	FlagStageRelTolerance    = "compare-rel-tolerance"
	FlagStageMaxDisagreement = "compare-max-disagreement"
	FlagStageTimeout         = "compare-request-timeout"
	FlagStageRate            = "compare-rate"
	FlagStageConcurrency     = "compare-concurrency"
	FlagStageConfidence      = "compare-confidence"
)

// stageFlag maps the CLI's flags to the stage inputs that set them, so an error names the input the
// pipeline author typed.
var stageFlag = map[string]string{FlagRequests: FlagStageRequests, flagField: FlagStageFields,
	flagAbsTolerance: FlagStageAbsTolerance, flagRelTolerance: FlagStageRelTolerance, flagMaxDisagreement: FlagStageMaxDisagreement,
	flagTimeout: FlagStageTimeout, flagRate: FlagStageRate, flagConcurrency: FlagStageConcurrency, flagConfidence: FlagStageConfidence}

// StageInputs are the comparison inputs of a stage front end; an empty file means no comparison.
// The others default as the CLI's flags do (NewInputs): the whole answer, a relative tolerance of
// 1e-9, at most 1% disagreeing at 99% confidence, 10 lines in flight with no rate limit, 10s per
// request.
type StageInputs struct {
	Requests string
	// Fields are the JSON paths compared, separated by new lines or by commas outside ["…"] (a task
	// or action input is one string); empty: the whole answer.
	Fields string
	// AbsTolerance, RelTolerance, MaxDisagreement (a percentage) and Confidence are the CLI's.
	AbsTolerance, RelTolerance, MaxDisagreement, Confidence float64
	// Timeout bounds each request (a slow model: an LLM classifier, embeddings on CPU, a cold GPU);
	// Rate caps the lines per second sent to production (0: none); Concurrency is the lines in
	// flight: the CLI's --request-timeout, --rate and -c.
	Timeout     time.Duration
	Rate        float64
	Concurrency int
}

// NewStageInputs returns the inputs comparing requests (a file; "" asks for no comparison) with
// the CLI's defaults, as AddFlags sets them.
func NewStageInputs(requests string) *StageInputs {
	d := NewInputs()
	return &StageInputs{Requests: requests, AbsTolerance: d.AbsTolerance, RelTolerance: d.RelTolerance, MaxDisagreement: d.MaxDisagreement,
		Confidence: d.Confidence, Timeout: d.Timeout, Rate: d.Rate, Concurrency: d.Concurrency}
}

// AddFlags binds the inputs to fs under their stage names, with the CLI's defaults.
func (in *StageInputs) AddFlags(fs *pflag.FlagSet) {
	d := NewInputs()
	fs.StringVar(&in.Requests, FlagStageRequests, "", "JSON Lines file of requests sent to blue and green after the stage, through the gateway verify-gateway names, and their answers compared (empty: no comparison)")
	fs.StringVar(&in.Fields, FlagStageFields, "", "JSON paths of the fields compared after the stage, separated by commas or new lines, e.g. label, $.scores[0] (empty: the whole answer)")
	config.DecimalVar(fs, &in.AbsTolerance, FlagStageAbsTolerance, d.AbsTolerance, allowedTolerance, "absolute tolerance of numbers compared after the stage (as compare's --abs-tolerance)")
	config.DecimalVar(fs, &in.RelTolerance, FlagStageRelTolerance, d.RelTolerance, allowedTolerance, "relative tolerance of numbers compared after the stage (as compare's --rel-tolerance)")
	config.DecimalVar(fs, &in.MaxDisagreement, FlagStageMaxDisagreement, d.MaxDisagreement, allowedMaxDisagreement, "percentage of requests compared after the stage that may disagree and blue still agrees")
	config.DecimalVar(fs, &in.Confidence, FlagStageConfidence, d.Confidence, allowedConfidence, "confidence of the decision after the stage, between 0.5 and 1 (as compare's --confidence)")
	config.DurationVarP(fs, &in.Timeout, FlagStageTimeout, "", d.Timeout, allowedTimeout, "per-request timeout of the comparison after the stage (as compare's --request-timeout)")
	config.DecimalVar(fs, &in.Rate, FlagStageRate, d.Rate, allowedRate, "requests per second compared after the stage, each sent to both versions (0: as fast as answered; as compare's --rate)")
	config.WholeVarP(fs, &in.Concurrency, FlagStageConcurrency, "", d.Concurrency, allowedConcurrency, "requests in flight at once in the comparison after the stage (as compare's -c)")
}

// SplitFields splits a stage front end's compare-fields into paths: at new lines, and at commas
// outside a ["…"] step (a member name may hold a comma); blanks are dropped.
func SplitFields(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	flush := func() {
		if f := strings.TrimSpace(cur.String()); f != "" {
			out = append(out, f)
		}
		cur.Reset()
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case !quoted && strings.HasPrefix(s[i:], `["`):
			quoted = true
			cur.WriteString(`["`)
			i++
		case quoted && strings.HasPrefix(s[i:], `"]`):
			quoted = false
			cur.WriteString(`"]`)
			i++
		case c == '\n' || c == '\r' || (c == ',' && !quoted):
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// StageOptions are the comparison a stage front end runs after the stage: the requests, read and
// checked, and compare's options; the gateway is verification's.
type StageOptions struct {
	Requests *Requests
	Options  Options
}

// allowedStageRequests says what compare-requests takes, for its errors; {verify-gateway} is
// renamed to the front end's name of that input.
const allowedStageRequests = "a JSON Lines file of requests in the repository, with {verify-gateway} set: the answers are compared through the gateway verification measures"

// Options validates the inputs for a stage of cfg whose verification goes through verifyGateway;
// nil means no comparison was asked for. The fields, tolerances and maximum are checked by the CLI's
// rules (Inputs.Options) and the requests file is read and every line checked now, before the stage
// sends anything; a problem is a *config.InputError naming the stage input (compare-fields, …, and
// for a bad line of FlagStageRequests its number). Top keeps the CLI's default, and the routes are
// the stage's: its routing header, URI prefix and first exact host.
func (in *StageInputs) Options(cfg config.Config, verifyGateway string) (*StageOptions, error) {
	name := strings.TrimSpace(in.Requests)
	if name == "" {
		return nil, nil
	}
	if strings.TrimSpace(verifyGateway) == "" || name == "-" {
		return nil, &config.InputError{Input: FlagStageRequests, Value: in.Requests, Allowed: allowedStageRequests}
	}
	cli := NewInputs()
	cli.Gateway, cli.Requests, cli.Path, cli.Header = "127.0.0.1", name, cfg.URIPrefix, cfg.Header
	cli.Fields, cli.AbsTolerance, cli.RelTolerance, cli.MaxDisagreement = SplitFields(in.Fields), in.AbsTolerance, in.RelTolerance, in.MaxDisagreement
	cli.Confidence, cli.Timeout, cli.Rate, cli.Concurrency = in.Confidence, in.Timeout, in.Rate, in.Concurrency
	o, err := cli.Options()
	if err != nil {
		return nil, in.rename(err)
	}
	rq, err := Prepare(name, nil)
	if err != nil {
		return nil, in.rename(err)
	}
	o.Gateway, o.Host = "", verify.ExactHost(cfg.Hosts)
	return &StageOptions{Requests: rq, Options: o}, nil
}

// rename makes an input error of the CLI's rules name the stage input instead of the CLI flag; an
// error about an input the stage does not have (its URI prefix or header, already checked by the
// stage's own rules) is kept as it is.
func (in *StageInputs) rename(err error) error {
	var ie *config.InputError
	if errors.As(err, &ie) {
		if s, ok := stageFlag[ie.Input]; ok {
			ie.Input = s
		}
		if ie.Input == FlagStageFields {
			ie.Allowed = fmt.Sprintf("%s, separated by commas or new lines", ie.Allowed)
		}
	}
	return err
}
