package compare

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// FlagStageRequests is the stage front ends' input asking for a comparison right after the stage
// (the Azure DevOps task's compareRequests, the GitHub Action's compare-requests): prefixed, because
// it tunes the step after the stage, as verify-gateway does.
const FlagStageRequests = "compare-requests"

// StageInputs are the comparison inputs of a stage front end; an empty file means no comparison.
type StageInputs struct {
	Requests string
}

// AddFlags binds the inputs to fs under FlagStageRequests.
func (in *StageInputs) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&in.Requests, FlagStageRequests, "", "JSON Lines file of requests sent to blue and green after the stage, through the gateway verify-gateway names, and their answers compared (empty: no comparison)")
}

// StageOptions are the comparison a stage front end runs after the stage: the requests, read and
// checked, and compare's options with the CLI's defaults; the gateway is verification's.
type StageOptions struct {
	Requests *Requests
	Options  Options
}

// allowedStageRequests says what compare-requests takes, for its errors; {verify-gateway} is
// renamed to the front end's name of that input.
const allowedStageRequests = "a JSON Lines file of requests in the repository, with {verify-gateway} set: the answers are compared through the gateway verification measures"

// Options validates the inputs for a stage of cfg whose verification goes through verifyGateway;
// nil means no comparison was asked for. The requests file is read and every line checked now,
// before the stage sends anything; a problem is a *config.InputError naming FlagStageRequests
// (and, for a bad line, its number). Compare's other inputs keep the CLI's defaults, and the
// routes are the stage's: its routing header, URI prefix and first exact host.
func (in *StageInputs) Options(cfg config.Config, verifyGateway string) (*StageOptions, error) {
	name := strings.TrimSpace(in.Requests)
	if name == "" {
		return nil, nil
	}
	bad := func(allowed string) error {
		return &config.InputError{Input: FlagStageRequests, Value: in.Requests, Allowed: allowed}
	}
	if strings.TrimSpace(verifyGateway) == "" || name == "-" {
		return nil, bad(allowedStageRequests)
	}
	rq, err := Prepare(name, nil)
	if ie := (*config.InputError)(nil); errors.As(err, &ie) && ie.Input == FlagRequests {
		ie.Input = FlagStageRequests
	}
	if err != nil {
		return nil, err
	}
	cli := NewInputs()
	o := Options{Path: cfg.URIPrefix, Header: cfg.Header, Host: verify.ExactHost(cfg.Hosts), Concurrency: cli.Concurrency,
		Timeout: cli.Timeout, Tolerance: Tolerance{Abs: cli.AbsTolerance, Rel: cli.RelTolerance}, Top: cli.Top,
		MaxDisagreement: cli.MaxDisagreement / 100, Confidence: cli.Confidence}
	return &StageOptions{Requests: rq, Options: o}, nil
}

// Outcome is the comparison that followed a stage: not asked for, skipped, or run.
type Outcome struct {
	// Report is what compare found; nil when it did not run.
	Report *Report
	// Skipped says why an asked-for comparison did not run ("" when it ran or was not asked for).
	Skipped string
	// Err is why the comparison failed, one sentence; nil when blue agrees or it did not run.
	Err error
}

// AfterStage compares blue's answers with green's right after a stage, when o asks for it and the
// stage held with blue deployed, through the gateway verification reached (checked's report; a
// verification that could not measure skips it). A dry run is skipped: nothing changed. Every front
// end calls this, so they decide and word the outcome alike.
func AfterStage(ctx context.Context, o *StageOptions, res *summary.Result, stageErr error, checked verify.Outcome) Outcome {
	switch {
	case o == nil || res == nil || stageErr != nil:
		return Outcome{}
	case res.DryRun:
		return Outcome{Skipped: "dry run: the stage changed nothing, so the answers were not compared"}
	case res.Images.Blue == "":
		return Outcome{Skipped: fmt.Sprintf("blue is not deployed after %s, so there is nothing to compare", res.Stage)}
	case checked.Report == nil:
		return Outcome{Skipped: "traffic could not be verified, so the answers were not compared"}
	}
	opts := o.Options
	opts.Gateway = checked.Report.Gateway
	f, err := o.Requests.Open()
	if err != nil {
		return Outcome{Err: fmt.Errorf("%s holds, but the answers could not be compared: %w", res.Stage, err)}
	}
	defer func() { _ = f.Close() }()
	r, err := Run(ctx, f, o.Requests.Name, opts)
	if err != nil {
		return Outcome{Err: fmt.Errorf("%s holds, but the answers could not be compared: %w", res.Stage, err)}
	}
	out := Outcome{Report: r}
	if err := r.Failure(); err != nil {
		out.Err = fmt.Errorf("%s holds, but %w", res.Stage, err)
	}
	return out
}

// WillRun reports whether AfterStage will send requests, so a front end can announce it first.
func WillRun(o *StageOptions, res *summary.Result, stageErr error, checked verify.Outcome) bool {
	return o != nil && res != nil && stageErr == nil && !res.DryRun && res.Images.Blue != "" && checked.Report != nil
}

// Agreement is the front ends' `agreement` output: the share of compared requests blue answered
// like green, a fraction with four decimals ("0.9987"), when a comparison ran; "" otherwise.
func (o Outcome) Agreement() string {
	if o.Report == nil {
		return ""
	}
	return fmt.Sprintf("%.4f", o.Report.Agreement)
}

// Markdown is what the run summary gets after verification's: the report, the reason the
// comparison failed to run, or why it was skipped; "" when none was asked for.
func (o Outcome) Markdown() string {
	switch {
	case o.Report != nil:
		return Markdown(o.Report)
	case o.Err != nil:
		return "### mlcanary compare: ❌ not compared\n\n" + summary.Escape(o.Err.Error()) + "\n"
	case o.Skipped != "":
		return "### mlcanary compare: skipped\n\n" + summary.Escape(o.Skipped) + "\n"
	}
	return ""
}
