package analyze

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// Measurer measures both versions over (start, end]: istioprom.Measure with the rest of its Config
// bound.
type Measurer func(ctx context.Context, start, end time.Time) (istioprom.Result, error)

// Settings are the gate's: from when, how long, how often, and how to judge.
type Settings struct {
	// ChangedAt is when the split last changed: the data judged starts there, or Window before the
	// first look when that is later. A ChangedAt ahead of Now (by at most Window; more is an error)
	// shifts the gate's clock by the difference, so the window still starts at the change.
	ChangedAt time.Time
	Window    time.Duration
	Interval  time.Duration
	// MaxErrorIncrease and MaxSlowIncrease are fractions (0.01 is 1 point); Confidence as Judge's.
	MaxErrorIncrease, MaxSlowIncrease, Confidence float64
	// Split is the split the window ran at: a version still without series at the window's end,
	// while the other served enough requests at a split that gives it a share, is a configuration
	// fault (missingSeriesFault), not too little traffic.
	Split Split
	// GreenBefore, when set, is the change to a split that gives green no traffic (Blue_100): green
	// is judged on its own traffic in the equally long window ending there (greenBefore).
	GreenBefore time.Time
	// Now and Sleep are the clock (time.Now and a context-aware sleep when nil), so tests need not wait.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Outcome is what the gate saw: the last measurement and its decision, or why there was none.
type Outcome struct {
	Decision analysis.Decision
	Measured istioprom.Result
	// Looks is how many times it measured; Start and Deadline bound the data judged.
	Looks           int
	Start, Deadline time.Time
	// Problem is the no-data sentence of the last look when it had no usable measurement.
	Problem string
	// GreenWindow is where green was judged when not in (Start, Measured.End]: the equally long
	// window before the change of a bake after full promotion; nil otherwise.
	GreenWindow *Window
}

// Run measures at once and then every Interval, judging each growing window (Start, now] — the
// windows are nested, which is what the confidence sequences' guarantee over repeated looks needs —
// and stops at the first decided verdict or at Deadline = Start + Window (one look when the window is
// already full). A refused query or a namespace where neither version has series ends it at once
// (waiting fixes neither); a transient query error (istioprom.QueryError.Transient) is asked again
// at the next look and ends it with its error only at Deadline; stale data, or one version without
// series yet (it may have had no request), is looked at again until Deadline, and is the outcome's
// Problem if it lasts. Run returns an error only for those that end it early or at Deadline; the
// verdict is in Outcome.
func Run(ctx context.Context, measure Measurer, s Settings) (Outcome, error) {
	now, sleep := s.Now, s.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	// A change recorded ahead of this machine's clock (another agent's clock, the API server's
	// managedFields time) says this clock is behind the cluster's: the gate reads its clock that much
	// later, so the window starts at the change and never judges the traffic before it.
	var ahead time.Duration
	if d := s.ChangedAt.Sub(now()); d > 0 {
		if d > s.Window {
			return Outcome{}, fmt.Errorf("the split's change record %s is %s ahead of this machine's clock, more than the window %s: a clock is wrong",
				s.ChangedAt.UTC().Format(time.RFC3339), d.Round(time.Second), s.Window)
		}
		ahead = d
	}
	clock := now
	now = func() time.Time { return clock().Add(ahead) }
	first := now()
	out := Outcome{Start: first.Add(-s.Window)}
	if s.ChangedAt.After(out.Start) {
		out.Start = s.ChangedAt
	}
	out.Deadline = out.Start.Add(s.Window)
	if out.Deadline.Before(first) {
		out.Deadline = first
	}
	var h history
	for {
		end := now()
		if end.After(out.Deadline) {
			end = out.Deadline
		}
		if out.Looks == 0 {
			h.fillIn(ctx, measure, s, out.Start, end)
		}
		res, err := measure(ctx, out.Start, end)
		out.Looks++
		out.Measured = res
		out.Problem = ""
		out.GreenWindow = greenWindow(s, out.Start, end)
		var noSeries *istioprom.NoSeriesError
		var query *istioprom.QueryError
		left := out.Deadline.Sub(end)
		var stale *istioprom.StaleError
		if ns, ok := isNoSeries(err); ok && left <= 0 {
			if fault := missingSeriesFault(ns, s.Split); fault != nil {
				return out, fault
			}
		}
		if errors.As(err, &stale) && left <= 0 {
			if fault := frozenSeriesFault(stale, res, s.Split); fault != nil {
				return out, fault
			}
		}
		switch {
		case errors.As(err, &stale), errors.As(err, &noSeries) && noSeries.OtherHasSeries:
			out.Problem = err.Error()
			out.Decision = analysis.Decision{Verdict: analysis.Undecided, Confidence: s.Confidence, Needed: -1}
		case errors.As(err, &query) && query.Transient() && left > 0:
			// A blip (a 503 from a proxy, a 429, a timeout): the next look asks again; one that
			// lasts until the deadline ends the gate with its message, never as a pass.
			out.Problem = err.Error()
			out.Decision = analysis.Decision{Verdict: analysis.Undecided, Confidence: s.Confidence, Needed: -1}
		case err != nil:
			return out, err
		default:
			out.Decision = analysis.Judge(h.add(shares(res, s)), s.Confidence)
			if out.Decision.Verdict != analysis.Undecided {
				return out, nil
			}
		}
		if left <= 0 {
			return out, nil
		}
		if err := sleep(ctx, min(s.Interval, left)); err != nil {
			return out, fmt.Errorf("waiting for the next look: %w", err)
		}
	}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Failure is the error the outcome exits with: nil when blue agrees with green, else one sentence
// saying which share is worse and by how much, or what is missing to decide.
func (o Outcome) Failure() error {
	d := o.Decision
	switch {
	case o.Problem != "":
		return fmt.Errorf("undecided after %d looks until %s: %s", o.Looks, o.Deadline.UTC().Format(time.RFC3339), o.Problem)
	case d.Verdict == analysis.Agrees:
		return nil
	case d.Verdict == analysis.Degraded:
		for _, r := range d.Shares {
			if r.Verdict == analysis.Degraded {
				return fmt.Errorf("blue is degraded: %s", r.Reason())
			}
		}
	}
	for _, r := range d.Shares {
		if r.Verdict == analysis.Undecided {
			return fmt.Errorf("undecided after %d looks until %s: %s", o.Looks, o.Deadline.UTC().Format(time.RFC3339), r.Reason())
		}
	}
	return fmt.Errorf("undecided after %d looks", o.Looks)
}
