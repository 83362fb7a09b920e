package analyze

// What counts as the same counters, which series are another cluster's, and which have a baseline,
// against a real Prometheus 3.16 fed by promtool backfill (the second #10 break-it review's E1–E4).

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// TestMeasureShardedPrometheusSumsPods: prometheus-operator with spec.shards: 2 remote-writing to
// one store, each shard's prometheus_replica its own pod, each scraping different pods. Blue's pod
// in shard 1 fails 10% of its requests. Different pods are summed (only the same pod's counters read
// by several scrapes are counted once), so the bad blue is degraded, with no warning.
func TestMeasureShardedPrometheusSumsPods(t *testing.T) {
	g := time.Now().Truncate(step)
	first, last := g.Add(-20*time.Minute), g.Add(5*time.Minute)
	good := [2]version{{ok: 40, fail: 0.4, slow: 0.4}, {ok: 40, fail: 0.4, slow: 0.4}}
	bad := [2]version{{ok: 36.4, fail: 4, slow: 0.4}, {ok: 40, fail: 0.4, slow: 0.4}}
	var om openMetrics
	writeLabelled(&om, "sharded", good, map[string]string{"job": "kubernetes-pods", "prometheus_replica": "prometheus-k8s-0",
		"pod": "model-0", "instance": "10.0.0.5:15020"}, first, last)
	writeLabelled(&om, "sharded", bad, map[string]string{"job": "kubernetes-pods", "prometheus_replica": "prometheus-k8s-shard-1-0",
		"pod": "model-1", "instance": "10.0.0.6:15020"}, first, last)
	url := realPrometheus(t, om.String())
	api, err := istioprom.NewClient(url, istioprom.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := measureLabelled(api, url, "sharded", g.Add(-10*time.Minute), g, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	d := analysis.Judge(res.Shares(0.01, 0.01), 0.99)
	const each = int64(600 * 40.4)
	if d.Verdict != analysis.Degraded || res.Blue.Requests != 2*each || res.Blue.Errors != 600*4+240 || res.Green.Requests != 2*each ||
		len(res.Warnings) != 0 {
		t.Errorf("blue's two pods in two shards: verdict %s, blue %d errors of %d requests (want %d of %d), green %d of %d; warnings %q",
			d.Verdict, res.Blue.Errors, res.Blue.Requests, 600*4+240, 2*each, res.Green.Errors, res.Green.Requests, res.Warnings)
	}
}

// TestMeasureRestartUnderDoubleScrape: Istio's metrics scraped by two jobs (ports 15020 and 15090)
// and blue's sidecar restarted mid-window: counted once, the reset read as a reset.
func TestMeasureRestartUnderDoubleScrape(t *testing.T) {
	g := time.Now().Truncate(step)
	first, last := g.Add(-20*time.Minute), g.Add(5*time.Minute)
	vs := [2]version{{ok: 40, fail: 0.4, slow: 0.4, restartAt: g.Add(-5 * time.Minute)}, {ok: 40, fail: 0.4, slow: 0.4}}
	var om openMetrics
	writeLabelled(&om, "restart", vs, map[string]string{"job": "kubernetes-pods", "instance": "10.0.0.5:15020"}, first, last)
	writeLabelled(&om, "restart", vs, map[string]string{"job": "envoy-stats", "instance": "10.0.0.5:15090"}, first, last)
	url := realPrometheus(t, om.String())
	api, err := istioprom.NewClient(url, istioprom.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := measureLabelled(api, url, "restart", g.Add(-10*time.Minute), g, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const each = int64(600 * 40.4)
	if res.Green.Requests != each || res.Blue.Requests < each-int64(40.4*30) || res.Blue.Requests > each+int64(40.4*30) ||
		len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "counted once") {
		t.Errorf("blue %d, green %d requests, want about %d each; warnings %q", res.Blue.Requests, res.Green.Requests, each, res.Warnings)
	}
}

// TestMeasureClusterLabelsRefused: staging and prod in one store with the same namespace and
// Deployment names, told apart by any of istioprom.ClusterLabels (k8s_cluster, env,
// kubernetes_cluster, …), or by one cluster's series carrying cluster= and the other's none (with
// the same job or another): refused naming the label, never summed nor "counted once"; scoped by
// prometheus-labels, each cluster is measured alone (cluster="" selects the unlabelled one), or both
// summed when a regular expression chooses them (cluster=~".*").
func TestMeasureClusterLabelsRefused(t *testing.T) {
	g := time.Now().Truncate(step)
	first, last := g.Add(-20*time.Minute), g.Add(5*time.Minute)
	equal := [2]version{{ok: 40, fail: 0.4, slow: 0.4}, {ok: 40, fail: 0.4, slow: 0.4}}
	degraded := [2]version{{ok: 42, fail: 2, slow: 0.4}, {ok: 43.6, fail: 0.4, slow: 0.4}} // staging is busier
	labels := []string{"k8s_cluster", "env", "kubernetes_cluster", "region"}
	var om openMetrics
	for _, l := range labels {
		writeLabelled(&om, "ns-"+l, equal, map[string]string{l: "prod"}, first, last)
		writeLabelled(&om, "ns-"+l, degraded, map[string]string{l: "staging"}, first, last)
	}
	writeLabelled(&om, "samejob", equal, map[string]string{"cluster": "aks-prod", "job": "kubernetes-pods"}, first, last)
	writeLabelled(&om, "samejob", degraded, map[string]string{"job": "kubernetes-pods"}, first, last)
	writeLabelled(&om, "otherjob", equal, map[string]string{"cluster": "aks-prod", "job": "kubernetes-pods"}, first, last)
	writeLabelled(&om, "otherjob", degraded, map[string]string{"job": "istio-envoy"}, first, last)
	url := realPrometheus(t, om.String())
	api, err := istioprom.NewClient(url, istioprom.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	type scope struct{ matcher, verdict string }
	cases := map[string]struct {
		label, want string
		scopes      []scope
	}{
		"samejob": {"cluster", `(label cluster: "aks-prod", and series without it)`, []scope{{`cluster="aks-prod"`, "agrees"}, {`cluster=""`, "degraded"},
			{`cluster=~".*"`, "degraded"}}}, // summed, as chosen
		"otherjob": {"cluster", `(label cluster: "aks-prod", and series without it)`, []scope{{`cluster="aks-prod"`, "agrees"}, {`cluster=""`, "degraded"}}},
	}
	for _, l := range labels {
		cases["ns-"+l] = struct {
			label, want string
			scopes      []scope
		}{l, `(label ` + l + `: "prod", "staging")`, []scope{{l + `="prod"`, "agrees"}, {l + `="staging"`, "degraded"}}}
	}
	for ns, c := range cases {
		t.Run(ns, func(t *testing.T) {
			res, err := measureLabelled(api, url, ns, g.Add(-10*time.Minute), g, time.Second)
			var mixed *istioprom.MixedClustersError
			if !errors.As(err, &mixed) || mixed.Label != c.label || !strings.Contains(err.Error(), c.want) {
				t.Errorf("two clusters by %s not refused: %v; blue %d/%d errors, green %d/%d; warnings %q",
					c.label, err, res.Blue.Errors, res.Blue.Requests, res.Green.Errors, res.Green.Requests, res.Warnings)
			}
			for _, sc := range c.scopes {
				res, err := measureLabelled(api, url, ns, g.Add(-10*time.Minute), g, time.Second, sc.matcher)
				if err != nil {
					t.Fatalf("%s: %v", sc.matcher, err)
				}
				if d := analysis.Judge(res.Shares(0.01, 0.01), 0.99); string(d.Verdict) != sc.verdict || len(res.Warnings) != 0 {
					t.Errorf("%s: %s, want %s; warnings %q", sc.matcher, d.Verdict, sc.verdict, res.Warnings)
				}
			}
		})
	}
}

// TestMeasureOnePodMissedThroughTheChange: green's old pod holds a million requests of the weeks
// before (10% of them 5xx); its target was not scraped from 8 minutes before the change to 1 minute
// after it, while every other series of its job was. Its series have no baseline and its target was
// not scraped before the window, so they count from their first sample (with a warning naming the
// pod), never their lifetime from 0: a blue at 5% errors against green's 1% is degraded.
func TestMeasureOnePodMissedThroughTheChange(t *testing.T) {
	g := time.Now().Truncate(step)
	first, last := g.Add(-20*time.Minute), g.Add(5*time.Minute)
	change := g.Add(-10 * time.Minute)
	var om openMetrics
	blueBad := version{ok: 38, fail: 2, slow: 0.4}
	greenOK := version{ok: 39.6, fail: 0.4, slow: 0.4}
	for _, s := range append(seriesOf("gap", "blue", blueBad), seriesOf("gap", "green", greenOK)...) {
		s.from, s.to, s.base = first, last, 1000
		l := maps.Clone(s.labels)
		l["job"] = "kubernetes-pods"
		om.counter(s.metric, l, s.from, s.to, s.value)
	}
	for _, s := range seriesOf("gap", "green", greenOK) {
		l := maps.Clone(s.labels)
		l["job"] = "kubernetes-pods"
		l["pod"] = "model-green-old"
		base := 1_000_000.0
		if l["response_code"] == "503" {
			base = 100_000
		}
		s.from, s.base = first, base
		om.counter(s.metric, l, first, change.Add(-8*time.Minute-step), s.value)
		om.counter(s.metric, l, change.Add(time.Minute), last, s.value)
	}
	url := realPrometheus(t, om.String())
	api, err := istioprom.NewClient(url, istioprom.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := measureLabelled(api, url, "gap", change, g, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	d := analysis.Judge(res.Shares(0.01, 0.01), 0.99)
	if d.Verdict != analysis.Degraded || res.Green.Requests > 2*24240 || res.Green.Requests < 24240+8*60*40 ||
		len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `of job "kubernetes-pods" from pod model-green-old have no sample`) {
		t.Errorf("one green pod's lifetime: green %d requests (≤ %d served), verdict %s on a blue at 5%% vs 1%%; warnings %q",
			res.Green.Requests, 2*24240, d.Verdict, res.Warnings)
	}
}
