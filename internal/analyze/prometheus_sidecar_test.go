package analyze

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// TestSidecarLostBetweenStagesIsAConfigurationFault (found by the second #10 break-it review, E8):
// blue served at Blue_10 with a sidecar; between the stages its chart gained
// `sidecar.istio.io/inject: "false"`, so at Blue_50 blue's new pods answer half the traffic unseen,
// and its old pods' series stop 30s before the change — inside the lookback, so blue "has series".
// Green serves 24,000 requests in the window. That is B9's configuration fault (a version without
// series at a split that gives it a share), not stale data that --on-undecided pass would pass: Run
// fails with one sentence. Real Prometheus, backfilled.
func TestSidecarLostBetweenStagesIsAConfigurationFault(t *testing.T) {
	g := time.Now().Truncate(step)
	change := g.Add(-10 * time.Minute)
	var om openMetrics
	vs := [2]version{{ok: 4, fail: 0.04, slow: 0.04, to: change.Add(-step)}, {ok: 40, fail: 0.4, slow: 0.4}}
	writeLabelled(&om, "nosidecar", vs, nil, g.Add(-40*time.Minute), g.Add(time.Minute))
	url := realPrometheus(t, om.String())
	api, err := istioprom.NewClient(url, istioprom.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	measure := func(_ context.Context, start, end time.Time) (istioprom.Result, error) {
		return measureLabelled(api, url, "nosidecar", start, end, time.Second)
	}
	o, err := Run(context.Background(), measure, Settings{ChangedAt: change, Window: 10 * time.Minute, Interval: 30 * time.Second,
		MaxErrorIncrease: 0.01, MaxSlowIncrease: 0.01, Confidence: 0.99, Split: Split{Green: 50, Blue: 50, Known: true},
		Now: func() time.Time { return g }})
	if err == nil || !strings.Contains(err.Error(), "blue's series did not grow in the window") || !strings.Contains(err.Error(), "a configuration fault, not stale data") {
		t.Fatalf("blue's series frozen since before the change while green served the window at 50/50: err %v, problem %q, %s", err, o.Problem, o.Decision.Verdict)
	}
	t.Log(err)
}

// TestStaleStaysStaleWhenItCouldBeChance: the frozen-series fault needs both conditions; a version
// whose scraping stopped mid-window (it counted requests in the window), or one whose share of the
// other's traffic is too small to be sure it was reached, is still stale data: undecided at the
// window's end, never a fault.
func TestStaleStaysStaleWhenItCouldBeChance(t *testing.T) {
	stale := &istioprom.StaleError{Version: "blue", Newest: t0.Add(-5 * time.Minute), Interval: 30 * time.Second, End: t0, Other: "green"}
	for _, c := range []struct {
		name  string
		blue  istioprom.Measurement
		green int64
		split Split
	}{
		{"stopped mid-window", istioprom.Measurement{Version: "blue", Requests: 500}, 24000, Split{Green: 50, Blue: 50, Known: true}},
		{"too little traffic for blue's share", istioprom.Measurement{Version: "blue"}, 1000, Split{Green: 99, Blue: 1, Known: true}},
	} {
		clk := &clock{now: t0}
		measure := func(_ context.Context, start, end time.Time) (istioprom.Result, error) {
			return istioprom.Result{Blue: c.blue, Green: istioprom.Measurement{Version: "green", Requests: c.green}, Start: start, End: end}, stale
		}
		set := settings(clk, t0)
		set.Split = c.split
		o, err := Run(context.Background(), measure, set)
		if err != nil || o.Decision.Verdict != analysis.Undecided || !strings.Contains(o.Problem, "newest sample") {
			t.Errorf("%s: err %v, %s, problem %q; want stale data, undecided", c.name, err, o.Decision.Verdict, o.Problem)
		}
	}
}
