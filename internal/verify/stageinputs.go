package verify

import (
	"errors"
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

// The CLI verify defaults; a stage front end keeps them for the knobs it does not expose.
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
	fs.StringVar(&in.Gateway, FlagGateway, "", "verify traffic through this ingress gateway address after the stage (auto: read from the gateway Service's load balancer; empty: no verification)")
	fs.StringVar(&in.AnswerGreen, FlagAnswerGreen, "", "the answer that identifies green (default: ask green's header route)")
	fs.StringVar(&in.AnswerBlue, FlagAnswerBlue, "", "the answer that identifies blue (default: ask blue's header route)")
	config.WholeVarP(fs, &in.Requests, FlagRequests, "", 0, allowedRequests, "requests to the default route when verifying (0: enough to decide)")
	config.DecimalVar(fs, &in.Tolerance, FlagTolerance, DefaultTolerance, allowedTolerance, "percentage points a share may be off from its weight when verifying")
}

// stageNames are the stage inputs' names for the CLI verify flags they set.
var stageNames = map[string]string{flagGateway: FlagGateway, flagRequests: FlagRequests, flagTolerance: FlagTolerance}

// Options validates the inputs into verify's options for routes serving hosts; nil means no
// verification was asked for. They are the CLI verify inputs with its defaults for the knobs a
// stage does not expose, validated by the same rules; a bad value is a *config.InputError naming
// the stage's input (verify-gateway, not gateway).
func (in *StageInputs) Options(hosts []string) (*Options, error) {
	if strings.TrimSpace(in.Gateway) == "" {
		return nil, nil
	}
	cli := NewInputs()
	cli.Gateway, cli.AnswerGreen, cli.AnswerBlue = in.Gateway, in.AnswerGreen, in.AnswerBlue
	cli.Requests, cli.Tolerance = in.Requests, in.Tolerance
	o, err := cli.Options(hosts)
	if ie := (*config.InputError)(nil); errors.As(err, &ie) {
		ie.Rename(func(flag string) string {
			if name, ok := stageNames[flag]; ok {
				return name
			}
			return flag
		})
	}
	if err != nil {
		return nil, err
	}
	return &o, nil
}
