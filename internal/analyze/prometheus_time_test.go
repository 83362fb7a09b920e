package analyze

// The window's start and end against data whose clock is not the runner's (found by the #10
// break-it review): data a minute behind the runner's clock, data that stops, series without a
// sample in the lookback before the window (Prometheus down through the change, or Istio's metrics
// scraped for the first time inside the window). Real Prometheus 3.16 fed by promtool backfill.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

func TestGateAgainstDataClocks(t *testing.T) {
	g := time.Now().Truncate(step)
	first := g.Add(-20 * time.Minute)
	degraded := [2]version{{ok: 38, fail: 2, slow: 0.4}, {ok: 39.6, fail: 0.4, slow: 0.4}}
	var om openMetrics
	// Data up to g: what Prometheus (or an Azure Monitor workspace) holds when the runner's clock
	// reads g+60s: the runner's clock a minute ahead, or a minute of ingestion delay.
	writeLabelled(&om, "behind", degraded, nil, first, g)
	// Prometheus was down from g-16m to g-9.5m (an upgrade, an OOM kill): every series has a sample
	// at g-16.5m and the next at g-9.5m, none in the 5 minutes before the window's start g-10m.
	for _, name := range []string{"blue", "green"} {
		for _, s := range seriesOf("gap", name, version{ok: 40, fail: 0.4}) {
			s.base, s.from = 1_000_000, first // weeks of traffic before this release
			for _, span := range [][2]time.Time{{first, g.Add(-16*time.Minute - 30*time.Second)}, {g.Add(-9*time.Minute - 30*time.Second), g}} {
				om.counter(s.metric, s.labels, span[0], span[1], s.value)
			}
		}
	}
	// Istio's metrics scraped for the first time 3 minutes ago (the README's scrape config just
	// applied, or a new Prometheus): the pods' counters already hold weeks of traffic.
	for _, name := range []string{"blue", "green"} {
		for _, s := range seriesOf("newscrape", name, version{ok: 40, fail: 0.4}) {
			s.base, s.from = 1_000_000, first
			om.counter(s.metric, s.labels, g.Add(-3*time.Minute), g, s.value)
		}
	}
	// A first release: fresh pods and a fresh Prometheus, the pods' first requests after the
	// window's start (g-10m), first scraped at g-9m: their counters are the window's, from 0.
	for _, name := range []string{"blue", "green"} {
		for _, s := range seriesOf("fresh", name, version{ok: 40, fail: 0.4}) {
			s.base, s.from = 0, g.Add(-9*time.Minute-30*time.Second)
			om.counter(s.metric, s.labels, g.Add(-9*time.Minute), g, s.value)
		}
	}
	url := realPrometheus(t, om.String())
	api, err := istioprom.NewClient(url, istioprom.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	gate := func(ns string, now time.Time, changedAt time.Time) (Outcome, error) {
		clock := now
		return Run(context.Background(), func(_ context.Context, start, end time.Time) (istioprom.Result, error) {
			return measureLabelled(api, url, ns, start, end, time.Second)
		}, Settings{ChangedAt: changedAt, Window: 10 * time.Minute, Interval: step,
			MaxErrorIncrease: 0.01, MaxSlowIncrease: 0.01, Confidence: 0.99,
			Now:   func() time.Time { return clock },
			Sleep: func(_ context.Context, d time.Duration) error { clock = clock.Add(d); return nil }})
	}

	// A runner's clock a minute ahead of the metrics (or a minute of ingestion delay) is no
	// staleness: the newest sample, the backend's time, decides it, and 9 minutes of data at 5% of
	// errors against 1% are degraded.
	t.Run("data a minute behind the runner's clock still decides", func(t *testing.T) {
		o, err := gate("behind", g.Add(time.Minute), g.Add(-time.Hour))
		if err != nil || o.Decision.Verdict != analysis.Degraded {
			t.Errorf("%s after %d looks (problem %q, err %v), want degraded", o.Decision.Verdict, o.Looks, o.Problem, err)
		}
	})

	// Data that stops being scraped is looked at again every interval until the window ends, then
	// undecided with the stale sentence (never a pass, never a rollback).
	t.Run("stale data waits until the window ends", func(t *testing.T) {
		o, err := gate("behind", g.Add(5*time.Minute), g.Add(-2*time.Minute))
		if err != nil || o.Decision.Verdict != analysis.Undecided || !strings.Contains(o.Problem, "newest sample") || o.Looks < 7 {
			t.Errorf("%s after %d looks (problem %q, err %v), want undecided, stale, after 7 looks (g+5m … g+8m)", o.Decision.Verdict, o.Looks, o.Problem, err)
		}
	})

	// Series without a sample in the lookback before the window whose first samples hold far more
	// than the window could (lifetime counters) count from their first sample, with a warning: at
	// most 600 s of 40.4/s = 24240, never the million of the weeks before. Scraped from g-9.5m
	// ("gap") and from g-3m ("newscrape"), they count 19 and 6 scrapes of 30 s.
	for ns, want := range map[string]int64{"gap": 19 * 30 * 40.4, "newscrape": 6 * 30 * 40.4} {
		t.Run(ns+": a series without a baseline is not counted from zero", func(t *testing.T) {
			res, err := measureLabelled(api, url, ns, g.Add(-10*time.Minute), g, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if res.Blue.Requests != want || res.Green.Requests != want || res.Blue.Errors != want/101 {
				t.Errorf("requests blue %+v, green %+v, want %d each (at most 24240 in the window)", res.Blue, res.Green, want)
			}
			if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "scraping began or resumed in the window") {
				t.Errorf("warnings %q", res.Warnings)
			}
		})
	}

	// Fresh counters first scraped in the window count from 0: the requests before their first
	// scrape (30 s of 40.4/s) are the window's too.
	t.Run("fresh series first scraped in the window count from zero", func(t *testing.T) {
		res, err := measureLabelled(api, url, "fresh", g.Add(-10*time.Minute), g, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(19 * 30 * 40.4); res.Blue.Requests != want || res.Green.Requests != want || len(res.Warnings) != 0 {
			t.Errorf("requests blue %d, green %d, want %d each; warnings %q", res.Blue.Requests, res.Green.Requests, want, res.Warnings)
		}
	})
}
