package analyze

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// step is the scrape interval of the backfilled series.
const step = 30 * time.Second

// series is one backfilled counter: rate per second from its first sample (value base at from) to
// its last (to), every step; after a restart at restartAt the process counts again from 0, having
// counted 15s of traffic by its next sample.
type series struct {
	metric    string
	labels    map[string]string
	rate      float64
	base      float64
	from, to  time.Time
	restartAt time.Time
}

func (s series) value(t time.Time) float64 {
	if !s.restartAt.IsZero() && !t.Before(s.restartAt) {
		return math.Floor(s.rate * (t.Sub(s.restartAt) + 15*time.Second).Seconds())
	}
	return s.base + math.Floor(s.rate*t.Sub(s.from).Seconds())
}

// version is one version's traffic in a namespace, per second: answered requests, 5xx among them,
// slow ones among them (over 1000ms), and 503s the gateway answered for lack of an upstream (UH).
type version struct {
	ok, fail, slow, unserved float64
	from, to, restartAt      time.Time
}

// seriesOf is the Istio-shaped series of version v (blue or green) of namespace ns.
func seriesOf(ns, v string, t version) []series {
	dest := func(code string) map[string]string {
		return map[string]string{"reporter": "destination", "destination_workload_namespace": ns, "destination_workload": "model-" + v,
			"destination_service_namespace": ns, "destination_service_name": "model-svc-" + v, "response_code": code, "response_flags": "-",
			"pod": "model-" + v + "-0"}
	}
	bucket := func(le string) map[string]string {
		l := dest("200")
		l["le"] = le
		return l
	}
	all := t.ok + t.fail
	out := []series{
		{metric: "istio_requests_total", labels: dest("200"), rate: t.ok},
		{metric: "istio_requests_total", labels: dest("503"), rate: t.fail},
		{metric: "istio_request_duration_milliseconds_bucket", labels: bucket("500"), rate: max(0, all-t.slow-1)},
		{metric: "istio_request_duration_milliseconds_bucket", labels: bucket("1000"), rate: all - t.slow},
		{metric: "istio_request_duration_milliseconds_bucket", labels: bucket("+Inf"), rate: all},
	}
	if t.unserved > 0 {
		out = append(out, series{metric: "istio_requests_total", rate: t.unserved, labels: map[string]string{"reporter": "source",
			"source_workload": "istio-ingressgateway", "destination_workload": "unknown", "destination_service_namespace": ns,
			"destination_service_name": "model-svc-" + v, "response_code": "503", "response_flags": "UH"}})
	}
	for i := range out {
		out[i].from, out[i].to, out[i].restartAt = t.from, t.to, t.restartAt
	}
	return out
}

// TestAgainstRealPrometheus: Istio-shaped series backfilled into a real Prometheus 3.16 (built from
// the Go module proxy by scripts/tool.sh) and measured through its HTTP API over the window (G-10m,
// G]. Every count is exact and written out by hand from the series' rates: 20 scrapes of 30s in the
// window, so a rate r per second counts 600·r.
func TestAgainstRealPrometheus(t *testing.T) {
	g := time.Now().Truncate(step)
	first, last := g.Add(-20*time.Minute), g.Add(5*time.Minute) // samples after now keep the data fresh for the live gate below
	live := func(v version) version {
		if v.from.IsZero() {
			v.from = first
		}
		if v.to.IsZero() {
			v.to = last
		}
		return v
	}
	namespaces := map[string][2]version{ // blue, green
		"equal":    {{ok: 40, fail: 0.1, slow: 0.4}, {ok: 40, fail: 0.1, slow: 0.4}},
		"degraded": {{ok: 38, fail: 2, slow: 0.4}, {ok: 39.6, fail: 0.4, slow: 0.4}},
		"slower":   {{ok: 40, fail: 0.1, slow: 4}, {ok: 40, fail: 0.1, slow: 0.4}},
		"quiet":    {{}, {}},
		"reset":    {{ok: 40, restartAt: g.Add(-5 * time.Minute)}, {ok: 40}},
		"stale":    {{ok: 40, to: g.Add(-4 * time.Minute)}, {ok: 40}},
		"unserved": {{ok: 40, unserved: 0.2}, {ok: 40}},
	}
	var om openMetrics
	for ns, vs := range namespaces {
		for i, name := range []string{"blue", "green"} {
			for _, s := range seriesOf(ns, name, live(vs[i])) {
				s.base = 1000 // counters that existed before the window
				om.counter(s.metric, s.labels, s.from, s.to, s.value)
			}
		}
	}
	url := realPrometheus(t, om.String())
	api, err := istioprom.NewClient(url, istioprom.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	measure := func(ns string) (istioprom.Result, error) {
		return istioprom.Measure(context.Background(), api, istioprom.Config{Endpoint: url, Namespace: ns,
			Blue:  istioprom.Version{Name: "blue", Workload: "model-blue", Service: "model-svc-blue"},
			Green: istioprom.Version{Name: "green", Workload: "model-green", Service: "model-svc-green"},
			Start: g.Add(-10 * time.Minute), End: g, SLO: time.Second})
	}
	type counts struct{ requests, errors, unserved, timed, slow int64 }
	for _, c := range []struct {
		ns          string
		blue, green counts
		verdict     analysis.Verdict
	}{
		// 600 s × (40 + 0.1)/s = 24060 requests, 60 of them 503s, 240 slow.
		{"equal", counts{24060, 60, 0, 24060, 240}, counts{24060, 60, 0, 24060, 240}, analysis.Agrees},
		// blue: 600 × 40 = 24000, 600 × 2 = 1200 errors (5%); green 600 × 0.4 = 240 (1%).
		{"degraded", counts{24000, 1200, 0, 24000, 240}, counts{24000, 240, 0, 24000, 240}, analysis.Degraded},
		// blue: 600 × 4 = 2400 slow (about 10%) against 240.
		{"slower", counts{24060, 60, 0, 24060, 2400}, counts{24060, 60, 0, 24060, 240}, analysis.Degraded},
		{"quiet", counts{}, counts{}, analysis.Undecided},
		// blue restarts at G-5m: after the baseline at G-10m, the 9 scrapes G-9.5m … G-5.5m add 9 ×
		// 1200; the scrape at G-5m reads 15 s × 40 = 600 (below the last value: a reset, counted whole);
		// the 10 scrapes G-4.5m … G add 10 × 1200. The requests the old process counted after its last
		// scrape are lost, as they are to Prometheus's increase().
		{"reset", counts{10800 + 600 + 12000, 0, 0, 23400, 0}, counts{24000, 0, 0, 24000, 0}, analysis.Agrees},
		// 600 × 0.2 = 120 answered by the gateway with UH: requests and errors of blue, 0.50% against
		// green's 0, within the 1 point allowed.
		{"unserved", counts{24000 + 120, 120, 120, 24000, 0}, counts{24000, 0, 0, 24000, 0}, analysis.Agrees},
	} {
		res, err := measure(c.ns)
		if err != nil {
			t.Errorf("%s: %v", c.ns, err)
			continue
		}
		for _, v := range []struct {
			got  istioprom.Measurement
			want counts
		}{{res.Blue, c.blue}, {res.Green, c.green}} {
			got := counts{v.got.Requests, v.got.Errors, v.got.Unserved, v.got.Timed, v.got.Slow}
			if got != v.want {
				t.Errorf("%s %s: %+v, want %+v", c.ns, v.got.Version, got, v.want)
			}
		}
		if d := analysis.Judge(res.Shares(0.01, 0.01), 0.99); d.Verdict != c.verdict {
			t.Errorf("%s: %s, want %s", c.ns, d.Verdict, c.verdict)
		}
		if res.BoundaryMs != 1000 {
			t.Errorf("%s: slow counted above %gms, want 1000", c.ns, res.BoundaryMs)
		}
	}
	if _, err := measure("stale"); !errors.As(err, new(*istioprom.StaleError)) {
		t.Errorf("stale: %v", err)
	}
	var noSeries *istioprom.NoSeriesError
	if _, err := measure("equa1"); !errors.As(err, &noSeries) || noSeries.OtherHasSeries {
		t.Errorf("a typo'd namespace: %v", err)
	}

	// The gate on the live clock, as `mlcanary analyze` runs it: the split changed an hour ago, so one
	// look at the last 10 minutes decides.
	for ns, want := range map[string]analysis.Verdict{"equal": analysis.Agrees, "degraded": analysis.Degraded, "quiet": analysis.Undecided} {
		o, err := Run(context.Background(), func(ctx context.Context, start, end time.Time) (istioprom.Result, error) {
			return istioprom.Measure(ctx, api, istioprom.Config{Endpoint: url, Namespace: ns,
				Blue:  istioprom.Version{Name: "blue", Workload: "model-blue", Service: "model-svc-blue"},
				Green: istioprom.Version{Name: "green", Workload: "model-green", Service: "model-svc-green"},
				Start: start, End: end, SLO: time.Second})
		}, Settings{ChangedAt: time.Now().Add(-time.Hour), Window: 10 * time.Minute, Interval: step,
			MaxErrorIncrease: 0.01, MaxSlowIncrease: 0.01, Confidence: 0.99})
		if err != nil || o.Decision.Verdict != want || o.Looks != 1 {
			t.Errorf("gate on %s: %s after %d looks (%v), want %s", ns, o.Decision.Verdict, o.Looks, err, want)
		}
	}
}
