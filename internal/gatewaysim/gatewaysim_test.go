package gatewaysim

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

var routes = []summary.HeaderRoute{
	{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
	{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"},
}

func start(t *testing.T, w summary.Weights) string {
	t.Helper()
	green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model A"}))
	blue := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model B"}))
	t.Cleanup(green.Close)
	t.Cleanup(blue.Close)
	gw := httptest.NewServer(New(Config{
		Backends: map[string]string{"green": green.URL, "blue": blue.URL}, Weights: w, Routes: routes, Seed: 1,
	}))
	t.Cleanup(gw.Close)
	return gw.URL
}

// count sends n GET /score requests with the routing header set to version ("" for none).
func count(t *testing.T, url, version string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/score", nil)
		if err != nil {
			t.Fatal(err)
		}
		if version != "" {
			req.Header.Set("x-api-version", version)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		got[string(b)]++
	}
	return got
}

func TestProxy(t *testing.T) {
	t.Parallel()
	const a, b = "\"New Model A\"\n", "\"New Model B\"\n"
	tests := []struct {
		name    string
		weights summary.Weights
		version string
		want    map[string]int
	}{
		{"header blue", summary.Weights{Green: 100}, "blue", map[string]int{b: 40}},
		{"header green", summary.Weights{Blue: 100}, "green", map[string]int{a: 40}},
		{"unknown header value takes the default", summary.Weights{Green: 100}, "purple", map[string]int{a: 40}},
		{"all green", summary.Weights{Green: 100}, "", map[string]int{a: 40}},
		{"all blue", summary.Weights{Blue: 100}, "", map[string]int{b: 40}},
		{"no weights", summary.Weights{}, "", map[string]int{"no healthy upstream\n": 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := count(t, start(t, tc.weights), tc.version, 40)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestProxySplits checks that a 90/10 split is roughly 90/10 (the 99.9% binomial range for 400
// picks is about 336..384 green; with the fixed seed the count is always the same).
func TestProxySplits(t *testing.T) {
	t.Parallel()
	got := count(t, start(t, summary.Weights{Green: 90, Blue: 10}), "", 400)
	if g := got["\"New Model A\"\n"]; g < 336 || g > 384 || got["\"New Model B\"\n"] != 400-g {
		t.Errorf("90/10 split of 400 requests: %v", got)
	}
}

// TestMetrics: what the proxy routes is counted as Istio's proxies would count it — the gateway's
// report (reporter="source") of every request and the destination sidecar's report of those a pod
// answered, with the response code, Envoy's response flags for requests the gateway answered itself
// (UH: the version has no backend, NR: no route), and the duration histogram on Istio's boundaries.
func TestMetrics(t *testing.T) {
	t.Parallel()
	green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "A"}))
	blue := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "B", FailRate: 0.5}))
	t.Cleanup(green.Close)
	t.Cleanup(blue.Close)
	p := New(Config{Backends: map[string]string{"green": green.URL, "blue": blue.URL},
		Routes: append(routes[:2:2], summary.HeaderRoute{Version: "red", Header: "x-api-version", Value: "red", Path: "/score"}),
		Mesh:   Mesh{Namespace: "ml", Workloads: map[string]string{"blue": "scorer-b"}}})
	gw := httptest.NewServer(p)
	t.Cleanup(gw.Close)
	count(t, gw.URL, "blue", 4)
	count(t, gw.URL, "green", 3)
	count(t, gw.URL, "red", 1)
	count(t, gw.URL, "", 1) // no weights: no route

	rec := httptest.NewRecorder()
	p.Metrics().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	// Each series as reporter workload/namespace service/namespace code flags = count.
	series := func(name string, value func(*dto.Metric) float64) []string {
		var out []string
		for _, m := range families[name].GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if len(l) != 15 || l["source_workload"] != "istio-ingressgateway" || l["request_protocol"] != "http" {
				t.Errorf("%s: labels %v", name, l)
			}
			out = append(out, fmt.Sprintf("%s %s/%s %s/%s %s %s = %g", l["reporter"], l["destination_workload"], l["destination_workload_namespace"],
				l["destination_service_name"], l["destination_service_namespace"], l["response_code"], l["response_flags"], value(m)))
		}
		slices.Sort(out)
		return out
	}
	want := []string{
		"destination model-green/ml model-svc-green/ml 200 - = 3",
		"destination scorer-b/ml model-svc-blue/ml 200 - = 2",
		"destination scorer-b/ml model-svc-blue/ml 500 - = 2",
		"source model-green/ml model-svc-green/ml 200 - = 3",
		"source scorer-b/ml model-svc-blue/ml 200 - = 2",
		"source scorer-b/ml model-svc-blue/ml 500 - = 2",
		"source unknown/unknown model-svc-red/ml 503 UH = 1",
		"source unknown/unknown unknown/unknown 503 NR = 1",
	}
	if diff := cmp.Diff(want, series("istio_requests_total", func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })); diff != "" {
		t.Errorf("istio_requests_total (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff(want, series("istio_request_duration_milliseconds", func(m *dto.Metric) float64 {
		return float64(m.GetHistogram().GetSampleCount())
	})); diff != "" {
		t.Errorf("istio_request_duration_milliseconds (-want +got)\n%s", diff)
	}
	var bounds []float64
	for _, b := range families["istio_request_duration_milliseconds"].GetMetric()[0].GetHistogram().GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	if diff := cmp.Diff(append(durationBuckets, math.Inf(1)), bounds); diff != "" {
		t.Errorf("boundaries (-want +got)\n%s", diff)
	}
}
