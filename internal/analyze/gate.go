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
	// first look when that is later.
	ChangedAt time.Time
	Window    time.Duration
	Interval  time.Duration
	// MaxErrorIncrease and MaxSlowIncrease are fractions (0.01 is 1 point); Confidence as Judge's.
	MaxErrorIncrease, MaxSlowIncrease, Confidence float64
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
	first := now()
	out := Outcome{Start: first.Add(-s.Window)}
	if s.ChangedAt.After(out.Start) && !s.ChangedAt.After(first) {
		out.Start = s.ChangedAt
	}
	out.Deadline = out.Start.Add(s.Window)
	if out.Deadline.Before(first) {
		out.Deadline = first
	}
	for {
		end := now()
		if end.After(out.Deadline) {
			end = out.Deadline
		}
		res, err := measure(ctx, out.Start, end)
		out.Looks++
		out.Measured = res
		out.Problem = ""
		var stale *istioprom.StaleError
		var noSeries *istioprom.NoSeriesError
		var query *istioprom.QueryError
		left := out.Deadline.Sub(end)
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
			out.Decision = analysis.Judge(res.Shares(s.MaxErrorIncrease, s.MaxSlowIncrease), s.Confidence)
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
