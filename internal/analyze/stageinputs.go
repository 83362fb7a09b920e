package analyze

import (
	"errors"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Names of the inputs that ask a stage to analyze after it holds (`mlcanary stage Blue_N
// --analysis`), besides the analysis inputs it shares with `mlcanary analyze` (AddFlags' names).
// The paired load's gateway address is analysis-gateway, because a stage's --gateway is the Istio
// Gateway.
const (
	FlagAnalysis        = "analysis"
	FlagAnalysisGateway = "analysis-gateway"
	FlagAnalysisDryRun  = "analysis-dry-run"
	FlagOnDegraded      = "on-degraded"
	FlagOnUndecided     = "on-undecided"
)

// What a stage does when the analysis after it finds blue degraded (--on-degraded) or cannot
// decide by the end of the window (--on-undecided).
const (
	OnDegradedRollback = "rollback" // perform Rollback at once, holding the same lock; exit 1
	OnDegradedHold     = "hold"     // leave traffic as the stage put it; exit 1
	OnUndecidedFail    = "fail"     // exit 1, traffic left as the stage put it
	OnUndecidedPass    = "pass"     // exit 0, with the verdict in the summary
)

// StageInputs are a stage's analysis inputs, bound to a FlagSet so every front end (flags, task
// and action inputs) parses and validates them alike.
type StageInputs struct {
	// Analysis asks for the gate after the stage.
	Analysis bool
	// Inputs are those shared with `mlcanary analyze` (Since and Output keep their defaults: the
	// window starts at the change the stage recorded, and the report is part of the stage's).
	Inputs Inputs
	// OnDegraded and OnUndecided are the On* words; DryRun makes the analysis observe only.
	OnDegraded, OnUndecided string
	DryRun                  bool
	fs                      *pflag.FlagSet
}

// Gate is a validated analysis to run after a stage.
type Gate struct {
	Inputs                  Inputs
	OnDegraded, OnUndecided string
	// Observe is an observe-only analysis (--analysis-dry-run, or a stage's --dry-run): the verdict
	// is reported, nothing is rolled back and the stage's exit code is its own.
	Observe bool
}

// AddFlags binds the inputs to fs: --analysis, the shared analysis flags (the paired load's
// gateway as --analysis-gateway), --on-degraded, --on-undecided and --analysis-dry-run.
func (in *StageInputs) AddFlags(fs *pflag.FlagSet) {
	in.fs = fs
	config.BoolVarP(fs, &in.Analysis, FlagAnalysis, "", false, "after Shadow_N, Blue_N or Blue_100 holds, judge blue against green as mlcanary analyze does, from the change the stage recorded, and act on the verdict (--on-degraded, --on-undecided)")
	in.Inputs.addShared(fs, FlagAnalysisGateway)
	config.ChoiceVarP(fs, &in.OnDegraded, FlagOnDegraded, "", OnDegradedRollback, "with --analysis, when blue is degraded: rollback (perform Rollback at once) or hold (leave traffic); both exit 1", OnDegradedRollback, OnDegradedHold)
	config.ChoiceVarP(fs, &in.OnUndecided, FlagOnUndecided, "", OnUndecidedFail, "with --analysis, when the window ends undecided: fail (exit 1) or pass (exit 0); traffic stays either way", OnUndecidedFail, OnUndecidedPass)
	config.BoolVarP(fs, &in.DryRun, FlagAnalysisDryRun, "", false, "with --analysis, observe only: report the verdict, never roll back or fail the stage on it")
}

// stageOnly are the inputs only a stage's analysis has; with the shared ones (sharedFlags) they are
// refused without --analysis.
var stageOnly = []string{FlagOnDegraded, FlagOnUndecided, FlagAnalysisDryRun}

// sharedFlags are the shared analysis inputs as a stage names them.
var sharedFlags = []string{flagPrometheusURL, flagTokenFile, flagUser, flagPasswordFile, flagLabels, flagWindow, flagInterval,
	flagLatencySLO, flagMaxErrorIncrease, flagMaxSlowIncrease, flagConfidence, flagSource, FlagAnalysisGateway, flagRate, flagConcurrency, flagMethod, flagData}

// Gate validates the inputs for stage and returns the gate to run after it; nil when no analysis
// was asked for. A problem is a *config.InputError naming the stage's input (analysis-gateway, not
// gateway): an analysis input given without --analysis (it would be ignored, and the stage would
// pass ungated), --analysis on a stage that does not leave both versions serving, or an input
// `mlcanary analyze` refuses, with the same message.
func (in *StageInputs) Gate(stage config.Stage, dryRun bool) (*Gate, error) {
	if !in.Analysis {
		for name, v := range map[string]string{InputToken: in.Inputs.Token, InputPassword: in.Inputs.Password} {
			if v != "" {
				return nil, &config.InputError{Input: name, Value: secretShown, Allowed: "only with {" + FlagAnalysis + "} true, which it tunes"}
			}
		}
		for _, name := range append(append([]string{}, sharedFlags...), stageOnly...) {
			if f := in.given(name); f != nil {
				return nil, &config.InputError{Input: name, Value: shown(name, f.Value.String()), Allowed: "only with {" + FlagAnalysis + "} true, which it tunes"}
			}
		}
		return nil, nil
	}
	// Shadow_N too: blue's sidecar serves (and reports) the mirrored copies, which is how a gate
	// judges blue before it answers any client.
	if stage.Kind != config.KindBlueN && stage.Kind != config.KindBlue100 && stage.Kind != config.KindShadow {
		return nil, &config.InputError{Input: FlagAnalysis, Value: strconv.FormatBool(in.Analysis),
			Allowed: "true only with the stages Shadow_N (1 to 100), Blue_N (1 to 99) and Blue_100, where blue and green both serve; not with " + stage.String()}
	}
	shared := in.Inputs
	shared.Since, shared.Output = "", FormatText
	if err := shared.Validate(); err != nil {
		if ie := (*config.InputError)(nil); errors.As(err, &ie) {
			ie.Rename(func(flag string) string {
				if flag == flagGateway {
					return FlagAnalysisGateway
				}
				return flag
			})
		}
		return nil, err
	}
	switch {
	case in.OnDegraded != OnDegradedRollback && in.OnDegraded != OnDegradedHold:
		return nil, &config.InputError{Input: FlagOnDegraded, Value: in.OnDegraded, Allowed: OnDegradedRollback + " or " + OnDegradedHold}
	case in.OnUndecided != OnUndecidedFail && in.OnUndecided != OnUndecidedPass:
		return nil, &config.InputError{Input: FlagOnUndecided, Value: in.OnUndecided, Allowed: OnUndecidedFail + " or " + OnUndecidedPass}
	}
	return &Gate{Inputs: shared, OnDegraded: in.OnDegraded, OnUndecided: in.OnUndecided, Observe: in.DryRun || dryRun}, nil
}

// SetSecrets gives the Prometheus API's credentials as values (a front end's secret inputs
// InputToken and InputPassword; "" when not given). The front end masks them before anything is
// printed.
func (in *StageInputs) SetSecrets(token, password string) {
	in.Inputs.Token, in.Inputs.Password, in.Inputs.secretValues = token, password, true
}

// shown is an input's value as an error may show it: addresses without credentials.
func shown(name, v string) string {
	switch name {
	case flagPrometheusURL:
		return istioprom.Redact(v)
	case FlagAnalysisGateway:
		return verify.RedactedAddress(v)
	}
	return v
}

// given is flag when it was set (a flag on the command line, or a front end's input) to other than
// its default, as config.Inputs counts a given input; nil otherwise.
func (in *StageInputs) given(name string) *pflag.Flag {
	if in.fs == nil {
		return nil
	}
	f := in.fs.Lookup(name)
	if f == nil || !f.Changed || f.Value.String() == f.DefValue {
		return nil
	}
	return f
}

// StageFlags lists the names of every flag StageInputs.AddFlags binds, for the front ends that map
// their inputs onto them (the Azure DevOps task's camelCase names, the action's same names).
func StageFlags() []string {
	return append(append([]string{FlagAnalysis}, sharedFlags...), stageOnly...)
}
