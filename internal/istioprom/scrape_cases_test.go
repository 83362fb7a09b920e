package istioprom_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
)

// report is the part of `mlcanary analyze -o json` these tests read.
type report struct {
	Decision   analysis.Verdict
	Reason     string
	Looks      int
	Needed     int64
	Versions   map[string]analyze.VersionReport
	Shares     []analysis.ShareResult
	BoundaryMs float64 `json:"slowAboveMs"`
}

// runAnalyze runs `mlcanary analyze -o json args...` in process (no cluster: --since is given) and
// returns its exit code, its report (when it printed one) and its stderr.
func runAnalyze(t *testing.T, args ...string) (int, report, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := app.Run(context.Background(), app.Streams{In: strings.NewReader(""), Out: &out, Err: &errs},
		append([]string{"analyze", "-o", "json"}, args...), func(string) (string, bool) { return "", false })
	var r report
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
	}
	return code, r, errs.String()
}

// TestScrapedByRealPrometheus: traffic through gatewaysim, exported as Istio's metrics and scraped
// every second by a real Prometheus 3.16 on loopback, judged by `mlcanary analyze` (which runs
// istioprom.Measure and the gate): each namespace is a gateway of its own in front of a green and a
// blue scoring mockup. The mockups fail exactly floor(n·FailRate) of n requests, so every count is
// known: equal versions agree; blue with 6% of 5xx against green's 1% is degraded; a blue answering
// in 2.6s against an SLO of 2.5s is degraded on the slow share; a gateway restarted mid-window (its
// counters back to zero, its target gone for two scrapes) loses no request; a typo'd namespace is
// one line naming the selector that found nothing; once the equal versions' gateway's target stopped,
// they are looked at again until the window ends and said to be stale; and a namespace whose traffic
// stopped before the window is undecided, with the requests needed.
func TestScrapedByRealPrometheus(t *testing.T) {
	meshes := map[string]*mesh{}
	for ns, o := range map[string][2]scoringmock.Options{ // green, blue
		"equal":    {},
		"degraded": {{FailRate: 0.01}, {FailRate: 0.06}},
		"slower":   {{}, {Latency: 2600 * time.Millisecond}},
		"reset":    {},
		"quiet":    {},
	} {
		meshes[ns] = newMesh(t, ns, o[0], o[1])
	}
	var targets []string
	for _, m := range meshes {
		targets = append(targets, m.addr)
	}
	prom := promtest.Run(t, promtest.Options{Targets: targets, ScrapeInterval: scrapeInterval})
	// One request to each version, scraped, before the window: Istio's series exist and were scraped
	// before the split "changed", as with any Prometheus that was running before the release. (A
	// Prometheus whose first scrape comes after the traffic could not tell these fresh counters from
	// a pod's lifetime ones, and counts them from their first sample.)
	for _, m := range meshes {
		m.both(t, 1)
	}
	for _, m := range meshes {
		m.scraped(t, prom)
	}
	start := time.Now()

	// The traffic, at the same time in every namespace.
	meshes["quiet"].both(t, 5)
	quietEnd := time.Now()
	var wg sync.WaitGroup
	for ns, n := range map[string]int{"equal": 2000, "degraded": 2500, "slower": 40} {
		// In four batches a scrape and more apart, as a service's traffic flows: the gate judges no
		// version before it has requests in 3 parts of the window (analysis.MinLooks).
		wg.Go(func() {
			for i := range 4 {
				if i > 0 {
					time.Sleep(scrapeInterval + 200*time.Millisecond)
				}
				meshes[ns].both(t, n/4)
			}
		})
	}
	wg.Go(func() {
		m := meshes["reset"]
		m.both(t, 1000)
		m.scraped(t, prom)
		m.restart(t, 2*scrapeInterval)
		// Few requests first, scraped, so the new process's first sample is below the old one's last:
		// what tells Prometheus (and the count) that the counter was reset.
		m.both(t, 100)
		m.scraped(t, prom)
		m.both(t, 900)
	})
	wg.Wait()
	for _, m := range meshes {
		m.scraped(t, prom)
	}
	t.Logf("traffic sent and scraped in %s", time.Since(start).Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}

	since := start.UTC().Format(time.RFC3339Nano)
	// A latency SLO of 10s: on a loaded machine an answer on loopback may take over a second, and
	// the verdict would then wait for more requests; 10s is the slow share of "slower" only. The
	// default window (10m) holds all the traffic however slowly it was sent; a look that finds a
	// scrape late looks again a second later.
	analyzeNS := func(ns string, extra ...string) (int, report, string) {
		return runAnalyze(t, append([]string{"--prometheus-url", prom.URL, "--namespace", ns, "--since", since,
			"--interval", "1s", "--latency-slo", "10s"}, extra...)...)
	}
	// Slow requests are counted exactly only where they are certain: blue's 2.6s answers in "slower"
	// (a loaded machine may make any other answer take over a second).
	type counts struct{ requests, errors, timed int64 }
	for _, c := range []struct {
		ns          string
		args        []string
		code        int
		verdict     analysis.Verdict
		blue, green counts
	}{
		{"equal", nil, app.ExitOK, analysis.Agrees, counts{2000, 0, 2000}, counts{2000, 0, 2000}},
		// 2500 × 6% = 150 and 2500 × 1% = 25 answered 500.
		{"degraded", nil, app.ExitFailed, analysis.Degraded, counts{2500, 150, 2500}, counts{2500, 25, 2500}},
		{"slower", []string{"--latency-slo", "2.5s"}, app.ExitFailed, analysis.Degraded, counts{40, 0, 40}, counts{40, 0, 40}},
		// 1000 before the restart, 100 + 900 after it, each version.
		{"reset", nil, app.ExitOK, analysis.Agrees, counts{2000, 0, 2000}, counts{2000, 0, 2000}},
	} {
		t.Run(c.ns, func(t *testing.T) {
			code, r, stderr := analyzeNS(c.ns, c.args...)
			if code != c.code || r.Decision != c.verdict {
				t.Fatalf("exit %d, %s after %d looks, want exit %d, %s; stderr %q", code, r.Decision, r.Looks, c.code, c.verdict, stderr)
			}
			for v, want := range map[string]counts{"blue": c.blue, "green": c.green} {
				got := r.Versions[v]
				if (counts{got.Requests, got.Errors, got.Timed}) != want {
					t.Errorf("%s: %+v, want %+v", v, got, want)
				}
			}
			if c.ns == "slower" && (r.BoundaryMs != 2500 || r.Versions["blue"].Slow != 40 || r.Shares[1].Verdict != analysis.Degraded) {
				t.Errorf("slow above %gms, %d of blue's slow, slow share %s", r.BoundaryMs, r.Versions["blue"].Slow, r.Shares[1].Verdict)
			}
			t.Logf("%s: %s", c.ns, r.Reason)
		})
	}

	t.Run("typo'd namespace", func(t *testing.T) {
		code, _, stderr := analyzeNS("equa1")
		want := `mlcanary: no series of istio_requests_total{reporter="destination",destination_workload_namespace="equa1",destination_workload="model-blue"}`
		if code != app.ExitFailed || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})

	// "equal", judged above, loses its scrape target.
	meshes["equal"].stop()
	stopped := time.Now()
	t.Run("stale target", func(t *testing.T) {
		// The split changed 55s ago: 5s of the 1m window are left to wait for fresh data, which
		// never comes: the target stopped more than 1.5 scrape intervals and the 4 of lag allowed ago.
		for time.Since(stopped) < 7*scrapeInterval {
			time.Sleep(100 * time.Millisecond)
		}
		began := time.Now()
		code, r, stderr := runAnalyze(t, "--prometheus-url", prom.URL, "--namespace", "equal", "--interval", "1s",
			"--window", "1m", "--latency-slo", "10s", "--since", began.Add(-55*time.Second).UTC().Format(time.RFC3339Nano))
		took := time.Since(began)
		if code != app.ExitFailed || r.Decision != analysis.Undecided || r.Looks < 2 || took > 30*time.Second ||
			!strings.Contains(stderr, "newest sample is") || !strings.Contains(stderr, "Istio's metrics are not scraped or arrive late") {
			t.Errorf("exit %d, %s after %d looks in %s; stderr %q", code, r.Decision, r.Looks, took, stderr)
		}
		t.Log(stderr)
	})

	t.Run("no traffic in the window", func(t *testing.T) {
		// The measure code and the gate as analyze runs them, with a window `analyze` would not take
		// (its shortest is 1m): the last 2s, well after the namespace's traffic stopped.
		api, err := istioprom.NewClient(prom.URL, istioprom.Auth{})
		if err != nil {
			t.Fatal(err)
		}
		for time.Since(quietEnd) < 2*time.Second+2*scrapeInterval {
			time.Sleep(100 * time.Millisecond)
		}
		o, err := analyze.Run(context.Background(), func(ctx context.Context, start, end time.Time) (istioprom.Result, error) {
			return istioprom.Measure(ctx, api, istioprom.Config{Endpoint: prom.URL, Namespace: "quiet",
				Blue:  istioprom.Version{Name: "blue", Workload: "model-blue", Service: "model-svc-blue"},
				Green: istioprom.Version{Name: "green", Workload: "model-green", Service: "model-svc-green"},
				Start: start, End: end, SLO: time.Second})
		}, analyze.Settings{ChangedAt: quietEnd, Window: 2 * time.Second, Interval: scrapeInterval,
			MaxErrorIncrease: 0.01, MaxSlowIncrease: 0.01, Confidence: 0.99})
		if err != nil || o.Decision.Verdict != analysis.Undecided || o.Decision.Needed <= 0 || o.Measured.Blue.Requests != 0 || o.Measured.Green.Requests != 0 {
			t.Fatalf("%s, %d needed, blue %+v, green %+v (%v)", o.Decision.Verdict, o.Decision.Needed, o.Measured.Blue, o.Measured.Green, err)
		}
		t.Log(o.Failure())
	})
}
