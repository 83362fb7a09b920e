package frontend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/lock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// AnalyzeFunc measures and judges blue against green for the objects cfg names, from changedAt
// (the split's last change), until the verdict is decided or in's window is used up (analyze.Run).
// id is the front end's identity for an Azure Monitor workspace.
type AnalyzeFunc func(ctx context.Context, cfg config.Config, in analyze.Inputs, changedAt time.Time, id analyze.Identity) (analyze.Outcome, error)

// Analyze is the analysis gate against the live source (analyze.Prepare, analyze.Run).
func Analyze(ctx context.Context, cfg config.Config, in analyze.Inputs, changedAt time.Time, id analyze.Identity) (analyze.Outcome, error) {
	measure, settings, err := analyze.Prepare(in, cfg, changedAt, id)
	if err != nil {
		return analyze.Outcome{}, err
	}
	return analyze.Run(ctx, measure, settings)
}

// Analysis is what the analysis gate after a stage found and did.
type Analysis struct {
	// Report is the evidence; nil when the gate ended before a measurement (a failed query, no
	// series at all).
	Report *analyze.Report
	// Err is the gate's failure as the run reports it (nil when the gate passes): one sentence
	// beginning with the stage's name, saying what was worse and by how much (or what was missing)
	// and what was done about it.
	Err error
	// Action is what the gate did: ActionNone, ActionRolledBack, ActionHeld, ActionObserved or
	// ActionToBlue.
	Action string
	// Stage is the stage the gate ran after.
	Stage string
}

// What the analysis gate did after its verdict.
const (
	ActionNone       = ""            // blue agrees, or the run goes on (--on-undecided pass)
	ActionRolledBack = "rolled back" // blue degraded: Rollback performed (--on-degraded rollback)
	ActionHeld       = "held"        // blue degraded or undecided: traffic left as the stage put it, exit 1
	ActionObserved   = "observed"    // observe only: the verdict is reported, nothing acted on it
	// ActionToBlue: blue degraded, the automatic Rollback failed because green is not ready, so all
	// traffic was sent to blue, the only ready version (serveFromBlue); exit 1.
	ActionToBlue = "all traffic to blue"
)

// Decision is the verdict's word for outputs: agrees, degraded or undecided; "" when no analysis
// ran (a nil *Analysis) or it ended without a measurement (then Err says why).
func (a *Analysis) Decision() string {
	if a == nil || a.Report == nil {
		return ""
	}
	return string(a.Report.Decision)
}

// analyzeAfter runs the gate after a stage that held, under the stage's lock (ctx is the locked
// stage's context), and on a degraded blue with --on-degraded rollback performs Rollback under the
// same lock. It returns what holds now (Rollback's result after one, else res) and what the gate
// found; a failed Rollback is the returned error, as a failed stage's.
func analyzeAfter(ctx context.Context, eng Engine, rc *rest.Config, cfg config.Config, g *analyze.Gate, id analyze.Identity,
	res *summary.Result, log engine.Logger) (*summary.Result, *Analysis, error) {
	a := &Analysis{Stage: cfg.Stage.String()}
	log("analysis: judging blue against green from %s, for at most %s", res.ChangedAt.UTC().Format(time.RFC3339), g.Inputs.Window)
	judge := eng.Analyze
	if judge == nil {
		judge = Analyze
	}
	in := g.Inputs
	in.Split = analyze.Split{Green: res.Weights.Green, Blue: res.Weights.Blue, Mirror: res.Mirror, Known: true}
	o, err := judge(ctx, cfg, in, res.ChangedAt, id)
	if lost := lock.Lost(ctx); lost != nil && err != nil {
		err = fmt.Errorf("%w; %w", err, lost)
	}
	if o.Looks > 0 && (err == nil || o.Measured.Endpoint != "") {
		r := analyze.NewReport(o)
		a.Report = &r
	}
	verdict := o.Failure()
	if err != nil {
		verdict = err
	} else if verdict == nil {
		log("analysis: blue agrees with green")
		return res, a, nil
	}
	degraded := err == nil && o.Problem == "" && o.Decision.Verdict == analysis.Degraded
	log("analysis: %v", verdict)
	switch {
	case g.Observe:
		a.Action = ActionObserved
		return res, a, nil
	case err != nil:
		a.Action, a.Err = ActionHeld, fmt.Errorf("%s holds, but the analysis after it failed: %w; traffic is left as %s put it", cfg.Stage, err, cfg.Stage)
		return res, a, nil
	case !degraded && g.OnUndecided == analyze.OnUndecidedPass:
		return res, a, nil
	case !degraded:
		a.Action, a.Err = ActionHeld, fmt.Errorf("%s holds, but the analysis after it is %w; traffic is left as %s put it", cfg.Stage, verdict, cfg.Stage)
		return res, a, nil
	case g.OnDegraded == analyze.OnDegradedHold:
		a.Action, a.Err = ActionHeld, fmt.Errorf("%s holds, but %w; traffic is left as %s put it", cfg.Stage, verdict, cfg.Stage)
		return res, a, nil
	}
	rb := cfg
	rb.Stage = config.Stage{Kind: config.KindRollback}
	log("analysis: performing Rollback")
	back, rbErr := eng.Stage(ctx, rc, rb, log)
	if lost := lock.Lost(ctx); lost != nil && rbErr != nil {
		rbErr = fmt.Errorf("%w; %w", rbErr, lost)
	}
	if rbErr != nil {
		a.Err = fmt.Errorf("%s holds, but %w; the automatic Rollback failed: %w", cfg.Stage, verdict, rbErr)
		if served, note := serveFromBlue(ctx, eng, rc, cfg, log); served != nil || note != "" {
			a.Err = fmt.Errorf("%w; %s", a.Err, note)
			if served != nil {
				back, a.Action = served, ActionToBlue
			}
		}
		if back == nil {
			return res, a, a.Err
		}
		return back, a, a.Err
	}
	a.Action = ActionRolledBack
	a.Err = fmt.Errorf("%s held, but %w; rolled back automatically: green %d%%, blue %d%%", cfg.Stage, verdict, back.Weights.Green, back.Weights.Blue)
	return back, a, nil
}

// err is the run's error from the gate: nil when there was none or it passed.
func (a *Analysis) err() error {
	if a == nil {
		return nil
	}
	return a.Err
}

// Markdown is the gate's section of a run summary: the report (analyze.Markdown) and what the gate
// did, or why it has no report; "" for a nil *Analysis (no analysis ran).
func (a *Analysis) Markdown() string {
	if a == nil {
		return ""
	}
	var b strings.Builder
	if a.Report != nil {
		b.WriteString(analyze.Markdown(*a.Report))
	} else {
		fmt.Fprintf(&b, "### mlcanary analysis: ❌ no verdict\n\n%s\n", summary.Escape(a.Err.Error()))
	}
	switch a.Action {
	case ActionRolledBack:
		fmt.Fprintf(&b, "\n> **Rolled back:** blue was degraded after %s, so Rollback was performed at once, under the same lock; the summary above is what holds now.\n", summary.Escape(a.Stage))
	case ActionHeld:
		fmt.Fprintf(&b, "\n> **Failed:** traffic is left as %s put it.\n", summary.Escape(a.Stage))
	case ActionObserved:
		b.WriteString("\n_Observe only: nothing acted on the verdict._\n")
	case ActionToBlue:
		fmt.Fprintf(&b, "\n> **Rollback failed, all traffic on blue:** blue was degraded after %s, but green is not ready, so every request goes to blue, the only ready version; restore green, then run Rollback.\n", summary.Escape(a.Stage))
	}
	return b.String()
}

// analysisJSON is the gate's evidence as `-o json|yaml` holds it under "analysis": the report's
// fields (decision, versions.blue.requests, …), the stage it ran after, what it did, and the run's
// error line when the gate failed.
type analysisJSON struct {
	*analyze.Report
	After  string `json:"after"`
	Action string `json:"action,omitempty"`
	Error  string `json:"error,omitempty"`
}

// JSON is a for `-o json|yaml`; nil for a nil *Analysis.
func (a *Analysis) JSON() any {
	if a == nil {
		return nil
	}
	j := analysisJSON{Report: a.Report, After: a.Stage, Action: a.Action}
	if a.Err != nil {
		j.Error = config.Printable(a.Err.Error())
	}
	return j
}

// serveFromBlue is what a failed automatic Rollback does when green is not ready (its Deployment
// deleted or without an available pod while blue was judged): the split would keep sending green's
// share to nothing (503s), so it performs Blue_100 — every request to blue, the only ready version,
// degraded but serving — with a warning, and returns Blue_100's result and the sentence the run's
// line ends with. When green is ready, blue is not, the live state cannot be read or green has no
// share, it does nothing (nil, ""): the stage's split reaches a ready green, or no move is safer.
// Rule: a failed stage leaves traffic on something that works (README, "What every stage guarantees").
func serveFromBlue(ctx context.Context, eng Engine, rc *rest.Config, cfg config.Config, log engine.Logger) (*summary.Result, string) {
	if eng.Status == nil {
		return nil, ""
	}
	st, err := eng.Status(ctx, rc, cfg)
	if err != nil || st.Ready.Green || !st.Ready.Blue || st.Weights.Green == 0 {
		return nil, ""
	}
	log("analysis: WARNING: green is not ready, so its %d%% of the traffic reaches nothing; sending all traffic to blue, the only ready version, although it is degraded", st.Weights.Green)
	all := cfg
	all.Stage = config.Stage{Kind: config.KindBlue100}
	res, err := eng.Stage(ctx, rc, all, log)
	if err != nil {
		return nil, fmt.Sprintf("green is not ready and sending all traffic to blue failed too: %v; %d%% of the traffic still goes to green", err, st.Weights.Green)
	}
	return res, "green is not ready, so all traffic was sent to blue, the only ready version, although it is degraded (Blue_100 holds now): restore green, then run Rollback"
}
