package compare

import (
	"context"
	"fmt"

	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

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
// verification that could not measure skips it). A dry run is skipped: nothing changed. The live
// VirtualService, read by live after the stage (never the routes the stage planned: a `kubectl edit`
// or another controller may have changed them), is checked first (Live): unless each line's copy
// for each version reaches that version's own Service, nothing is sent and it fails. Every front end
// calls this, so they decide and word the outcome alike.
func AfterStage(ctx context.Context, o *StageOptions, res *summary.Result, stageErr error, checked verify.Outcome, live ReadLive) Outcome {
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
	l, err := live(ctx)
	if err != nil {
		return Outcome{Err: fmt.Errorf("%s holds, but the answers could not be compared: reading the live routes: %w", res.Stage, err)}
	}
	opts.RoutesKnown, opts.Live = true, l
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

// ReadLive reads the live VirtualService compare's requests go through (NewLive).
type ReadLive func(ctx context.Context) (*Live, error)

// WillRun reports whether AfterStage will send requests, so a front end can announce it first.
func WillRun(o *StageOptions, res *summary.Result, stageErr error, checked verify.Outcome) bool {
	return o != nil && res != nil && stageErr == nil && !res.DryRun && res.Images.Blue != "" && checked.Report != nil
}

// Agreement is the front ends' `agreement` output: the share of compared requests blue answered
// like green, a fraction with four decimals ("0.9987"), rounded down so that "1.0000" means no
// compared request disagreed, when a comparison ran; "" otherwise.
func (o Outcome) Agreement() string {
	if o.Report == nil {
		return ""
	}
	return agreementDown(o.Report.Agreed, o.Report.Compared, 4)
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
