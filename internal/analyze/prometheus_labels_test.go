package analyze

// Prometheus data labelled as brownfield clusters label it (found by the #10 break-it review): two
// clusters in one Azure Monitor workspace, Istio's metrics scraped by two jobs, an SLO between
// histogram boundaries. Real Prometheus 3.16 fed by promtool backfill, like TestAgainstRealPrometheus.

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

var (
	labelledBlue  = istioprom.Version{Name: "blue", Workload: "model-blue", Service: "model-svc-blue"}
	labelledGreen = istioprom.Version{Name: "green", Workload: "model-green", Service: "model-svc-green"}
)

// writeLabelled backfills both versions' traffic (blue's, green's) in ns with extra labels added to
// every series, from base 1000 (counters that existed before the window).
func writeLabelled(om *openMetrics, ns string, vs [2]version, extra map[string]string, first, last time.Time) {
	for i, name := range []string{"blue", "green"} {
		v := vs[i]
		if v.from.IsZero() {
			v.from = first
		}
		if v.to.IsZero() {
			v.to = last
		}
		for _, s := range seriesOf(ns, name, v) {
			s.base = 1000
			l := maps.Clone(s.labels)
			maps.Copy(l, extra)
			om.counter(s.metric, l, s.from, s.to, s.value)
		}
	}
}

// measureLabelled measures ns over (start, end] with matchers added to every selector.
func measureLabelled(api istioprom.Querier, url, ns string, start, end time.Time, slo time.Duration, matchers ...string) (istioprom.Result, error) {
	return istioprom.Measure(context.Background(), api, istioprom.Config{Endpoint: url, Namespace: ns,
		Blue: labelledBlue, Green: labelledGreen, Start: start, End: end, SLO: slo, Matchers: matchers})
}

func TestMeasureLabelledSeries(t *testing.T) {
	g := time.Now().Truncate(step)
	first, last := g.Add(-20*time.Minute), g.Add(5*time.Minute)
	equal := [2]version{{ok: 40, fail: 0.4, slow: 0.4}, {ok: 40, fail: 0.4, slow: 0.4}}
	degraded := [2]version{{ok: 38, fail: 2, slow: 0.4}, {ok: 39.6, fail: 0.4, slow: 0.4}}
	var om openMetrics
	// One Azure Monitor workspace shared by the staging and the prod cluster (ama-metrics adds
	// cluster=<name> to every series): same namespace, same Deployment names. Staging's blue is a
	// broken build; prod's is as good as green.
	writeLabelled(&om, "scoring", equal, map[string]string{"cluster": "aks-prod"}, first, last)
	writeLabelled(&om, "scoring", degraded, map[string]string{"cluster": "aks-staging"}, first, last)
	// Istio's metrics scraped twice (Istio's merged metrics on :15020 through prometheus.io
	// annotations and a PodMonitor on Envoy's :15090): the same series under two jobs and ports.
	writeLabelled(&om, "twice", equal, map[string]string{"job": "kubernetes-pods", "instance": "10.0.0.5:15020"}, first, last)
	writeLabelled(&om, "twice", equal, map[string]string{"job": "envoy-stats", "instance": "10.0.0.5:15090"}, first, last)
	// Two replicas of a highly available Prometheus writing to one store, same job.
	writeLabelled(&om, "replicas", equal, map[string]string{"job": "kubernetes-pods", "prometheus_replica": "prometheus-k8s-0"}, first, last)
	writeLabelled(&om, "replicas", equal, map[string]string{"job": "kubernetes-pods", "prometheus_replica": "prometheus-k8s-1"}, first, last)
	url := realPrometheus(t, om.String())
	api, err := istioprom.NewClient(url, istioprom.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	const each = int64(600 * 40.4) // requests each version served in the window of 20 scrapes

	// Two clusters' series are never summed: unscoped, one sentence names the label and its values;
	// scoped with a matcher, prod alone is measured exactly and agrees.
	t.Run("two clusters in one workspace are refused unless one is chosen", func(t *testing.T) {
		_, err := measureLabelled(api, url, "scoring", g.Add(-10*time.Minute), g, time.Second)
		var mixed *istioprom.MixedClustersError
		if !errors.As(err, &mixed) || !strings.Contains(err.Error(), `label cluster: "aks-prod", "aks-staging"`) ||
			!strings.Contains(err.Error(), "prometheus-labels") {
			t.Fatalf("unscoped: %v", err)
		}
		for _, c := range []struct {
			matcher string
			want    analysis.Verdict
		}{{`cluster="aks-prod"`, analysis.Agrees}, {`cluster="aks-staging"`, analysis.Degraded}} {
			res, err := measureLabelled(api, url, "scoring", g.Add(-10*time.Minute), g, time.Second, c.matcher)
			if err != nil {
				t.Fatalf("%s: %v", c.matcher, err)
			}
			d := analysis.Judge(res.Shares(0.01, 0.01), 0.99)
			if d.Verdict != c.want || res.Blue.Requests != int64(600*40) && res.Blue.Requests != each {
				t.Errorf("%s: %s, blue %d of %d errors, green %d of %d", c.matcher, d.Verdict, res.Blue.Errors, res.Blue.Requests, res.Green.Errors, res.Green.Requests)
			}
			if !strings.Contains(res.Queries[0].PromQL, c.matcher+"}") {
				t.Errorf("%s: query %s", c.matcher, res.Queries[0].PromQL)
			}
		}
	})

	// The same counters from two scrapes (jobs and ports, or HA replicas) count once, with a warning
	// naming the scrapes.
	for _, ns := range []string{"twice", "replicas"} {
		t.Run(ns+": a series scraped twice is counted once", func(t *testing.T) {
			res, err := measureLabelled(api, url, ns, g.Add(-10*time.Minute), g, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if res.Blue.Requests != each || res.Green.Requests != each || res.Blue.Timed != each || res.Blue.Errors != 240 {
				t.Errorf("blue %+v, green %+v; each version served %d, 240 errors", res.Blue, res.Green, each)
			}
			if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "counted once") {
				t.Errorf("warnings %q", res.Warnings)
			}
		})
	}

	// An SLO between two boundaries counts at the next one up (700ms -> 1000ms); one above every
	// boundary is one sentence naming the largest.
	t.Run("SLO between boundaries counts at the next boundary up", func(t *testing.T) {
		res, err := measureLabelled(api, url, "twice", g.Add(-10*time.Minute), g, 700*time.Millisecond)
		if err != nil || res.BoundaryMs != 1000 {
			t.Fatalf("boundary %g (%v), want 1000", res.BoundaryMs, err)
		}
		_, err = measureLabelled(api, url, "twice", g.Add(-10*time.Minute), g, 1200*time.Millisecond)
		var nb *istioprom.NoBoundaryError
		if !errors.As(err, &nb) || !strings.Contains(err.Error(), "1000ms") {
			t.Fatalf("an SLO above every boundary: %v", err)
		}
	})
}
