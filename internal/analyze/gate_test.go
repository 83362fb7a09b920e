package analyze

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/golden"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// clock is a fake time that Sleep moves on.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }
func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

// look is what one measurement returns.
type look struct {
	blue, green istioprom.Measurement
	err         error
}

// script measures the looks in order (the last one again once they run out) and records each
// window it was asked for. With a clock, a window ending before the clock's now is the gate filling
// in a first look's past intervals (history.fillIn): it gets the next look's counts in proportion to
// its length, as traffic at a steady rate would, and is recorded in filled, not windows.
type script struct {
	looks   []look
	windows [][2]time.Time
	clock   *clock
	filled  [][2]time.Time
}

func (s *script) measure(_ context.Context, start, end time.Time) (istioprom.Result, error) {
	if s.clock != nil && end.Before(s.clock.now) {
		s.filled = append(s.filled, [2]time.Time{start, end})
		l := s.looks[min(len(s.windows)+1, len(s.looks))-1]
		f := float64(end.Sub(start)) / float64(s.clock.now.Sub(start))
		part := func(m istioprom.Measurement) istioprom.Measurement {
			return istioprom.Measurement{Requests: int64(f * float64(m.Requests)), Errors: int64(f * float64(m.Errors)),
				Timed: int64(f * float64(m.Timed)), Slow: int64(f * float64(m.Slow))}
		}
		return istioprom.Result{Blue: part(l.blue), Green: part(l.green), Start: start, End: end}, l.err
	}
	s.windows = append(s.windows, [2]time.Time{start, end})
	l := s.looks[min(len(s.windows), len(s.looks))-1]
	return istioprom.Result{Blue: l.blue, Green: l.green, Start: start, End: end, Endpoint: "http://prometheus:9090", BoundaryMs: 1000,
		Queries: []istioprom.Query{{What: "blue requests", PromQL: `istio_requests_total{destination_workload="model-blue"}[900s]`, Time: end}}}, l.err
}

// counts is a measurement with requests, errors, timed and slow.
func counts(requests, errs, slow int64) istioprom.Measurement {
	return istioprom.Measurement{Requests: requests, Errors: errs, Timed: requests, Slow: slow}
}

func settings(c *clock, changedAt time.Time) Settings {
	return Settings{ChangedAt: changedAt, Window: 10 * time.Minute, Interval: 30 * time.Second,
		MaxErrorIncrease: 0.01, MaxSlowIncrease: 0.01, Confidence: 0.99, Now: c.Now, Sleep: c.Sleep}
}

// TestGateLooksUntilDecided: the window starts at the split's change and grows (nested: the start
// never moves), looks every interval, and stops at the first decided verdict.
func TestGateLooksUntilDecided(t *testing.T) {
	c := &clock{now: t0}
	s := &script{looks: []look{
		{blue: counts(100, 6, 1), green: counts(100, 1, 1)},
		{blue: counts(2000, 120, 20), green: counts(2000, 20, 20)},
		{blue: counts(10000, 600, 100), green: counts(10000, 100, 100)},
	}}
	changed := t0
	o, err := Run(context.Background(), s.measure, settings(c, changed))
	if err != nil {
		t.Fatal(err)
	}
	if o.Decision.Verdict != analysis.Degraded || o.Looks != 3 {
		t.Fatalf("%s after %d looks, want degraded after 3", o.Decision.Verdict, o.Looks)
	}
	for i, w := range s.windows {
		if !w[0].Equal(changed) || !w[1].Equal(t0.Add(time.Duration(i)*30*time.Second)) {
			t.Errorf("look %d measured %s to %s", i+1, w[0], w[1])
		}
	}
	if !o.Deadline.Equal(changed.Add(10 * time.Minute)) {
		t.Errorf("deadline %s", o.Deadline)
	}
	if err := o.Failure(); err == nil || !strings.HasPrefix(err.Error(), "blue is degraded: errors: blue 6.00%") {
		t.Errorf("failure: %v", err)
	}
}

// TestGateWindowAlreadyFull: a split changed long ago gives one look at the last Window.
func TestGateWindowAlreadyFull(t *testing.T) {
	c := &clock{now: t0}
	s := &script{looks: []look{{blue: counts(100, 1, 1), green: counts(100, 1, 1)}}}
	o, err := Run(context.Background(), s.measure, settings(c, t0.Add(-time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if o.Looks != 1 || !s.windows[0][0].Equal(t0.Add(-10*time.Minute)) || o.Decision.Verdict != analysis.Undecided {
		t.Errorf("%d looks from %s: %s", o.Looks, s.windows[0][0], o.Decision.Verdict)
	}
	if err := o.Failure(); err == nil || !strings.Contains(err.Error(), "more requests would decide it") {
		t.Errorf("failure: %v", err)
	}
}

// TestGateNoData: stale data and a version without series yet are looked at again until the
// deadline, then fail with their sentence; a failed query and a namespace without any series end
// the gate at once.
func TestGateNoData(t *testing.T) {
	stale := &istioprom.StaleError{Version: "blue", Newest: t0.Add(-5 * time.Minute), Interval: 30 * time.Second, End: t0}
	oneMissing := &istioprom.NoSeriesError{Version: istioprom.Version{Name: "blue", Workload: "model-blue"}, OtherHasSeries: true, Other: "green"}
	for _, c := range []struct {
		name      string
		err       error
		looks     int
		endsEarly bool
	}{
		{"stale", stale, 21, false},
		{"blue without series yet", oneMissing, 21, false},
		{"no series at all", &istioprom.NoSeriesError{Version: istioprom.Version{Name: "blue"}, Other: "green"}, 1, true},
		{"query error", &istioprom.QueryError{Endpoint: "http://p", Query: "q", Err: errors.New("bad_data: parse error")}, 1, true},
	} {
		clk := &clock{now: t0}
		s := &script{looks: []look{{err: c.err}}}
		o, err := Run(context.Background(), s.measure, settings(clk, t0))
		if c.endsEarly != (err != nil) || o.Looks != c.looks {
			t.Errorf("%s: %d looks, error %v", c.name, o.Looks, err)
			continue
		}
		if !c.endsEarly {
			if f := o.Failure(); f == nil || !strings.Contains(f.Error(), c.err.Error()) || o.Decision.Verdict != analysis.Undecided {
				t.Errorf("%s: %s, failure %v", c.name, o.Decision.Verdict, f)
			}
		}
	}
}

// TestReport: the evidence as text and as JSON (testdata/report.txt.golden, report.json.golden).
func TestReport(t *testing.T) {
	c := &clock{now: t0}
	s := &script{looks: []look{{blue: counts(10000, 600, 100), green: counts(10000, 100, 100)}}, clock: c}
	o, err := Run(context.Background(), s.measure, settings(c, t0.Add(-10*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := WriteText(&text, NewReport(o)); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, NewReport(o)); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "report.txt.golden", text.String())
	golden.Assert(t, "report.json.golden", js.String())
	golden.Assert(t, "report.md.golden", Markdown(NewReport(o)))
}

// TestMarkdownEscapes: a backend's warning and a query cannot break the summary's markup: no HTML,
// no table cell, no closed code fence.
func TestMarkdownEscapes(t *testing.T) {
	r := Report{Decision: "undecided", Reason: "<img src=x> | *x*", Endpoint: "http://prom/<b>", Warnings: []string{"##vso[task.complete]<script>"},
		Queries: []istioprom.Query{{What: "blue\n```\n<b>", PromQL: "up\n```"}}}
	md := Markdown(r)
	for _, bad := range []string{"<img", "<script>", "prom/<b>"} {
		if strings.Contains(md, bad) {
			t.Errorf("%q in:\n%s", bad, md)
		}
	}
	fences := 0
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fences++
		}
	}
	if fences != 2 {
		t.Errorf("%d lines open or close a fence, want 2:\n%s", fences, md)
	}
}

// TestGateChangeRecordedAhead: a change record ahead of this runner's clock (another agent's clock,
// or the API server's managedFields time, read by `analyze` in a later job on another machine)
// shifts the gate's clock by the difference: every window starts at the change, never the 10
// minutes before it (the previous split, or the previous release's blue under the same Deployment
// name). A record further ahead than the window is a wrong clock, said in one sentence, nothing
// measured.
func TestGateChangeRecordedAhead(t *testing.T) {
	for _, ahead := range []time.Duration{2 * time.Second, 3 * time.Minute} {
		c := &clock{now: t0}
		s := &script{looks: []look{{blue: istioprom.Measurement{Requests: 10}, green: istioprom.Measurement{Requests: 10}}}}
		changed := t0.Add(ahead)
		o, err := Run(context.Background(), s.measure, Settings{ChangedAt: changed, Window: 10 * time.Minute, Interval: 30 * time.Second,
			MaxErrorIncrease: 0.01, MaxSlowIncrease: 0.01, Confidence: 0.99, Now: c.Now, Sleep: c.Sleep})
		if err != nil || len(s.windows) == 0 {
			t.Fatalf("%s ahead: %v after %d looks", ahead, err, len(s.windows))
		}
		for _, w := range s.windows {
			if !w[0].Equal(changed) || w[1].Before(w[0]) {
				t.Errorf("%s ahead: window (%s, %s], want from the change %s", ahead, w[0], w[1], changed)
			}
		}
		if !o.Start.Equal(changed) || !o.Deadline.Equal(changed.Add(10*time.Minute)) {
			t.Errorf("%s ahead: start %s, deadline %s", ahead, o.Start, o.Deadline)
		}
	}
	s := &script{}
	_, err := Run(context.Background(), s.measure, Settings{ChangedAt: t0.Add(time.Hour), Window: 10 * time.Minute, Interval: 30 * time.Second,
		Confidence: 0.99, Now: (&clock{now: t0}).Now})
	if err == nil || !strings.Contains(err.Error(), "1h0m0s ahead of this machine's clock") || len(s.windows) != 0 {
		t.Errorf("an hour ahead: %v after %d looks", err, len(s.windows))
	}
}
