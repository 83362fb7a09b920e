package compare

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// greenOnly is a gateway with green's header route only (after Green_100 or Rollback, before
// Blue_0): x-api-version: blue falls through to the default route, all green. blue flips labels;
// its hits are counted.
func greenOnly(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.5123, 0)}))
	bm := scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.6123, 0)})
	blue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); bm.ServeHTTP(w, r) }))
	t.Cleanup(green.Close)
	t.Cleanup(blue.Close)
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{
		Backends: map[string]string{"green": green.URL, "blue": blue.URL},
		Weights:  summary.Weights{Green: 100},
		Routes:   []summary.HeaderRoute{{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}},
	}))
	t.Cleanup(gw.Close)
	return gw.URL, &hits
}

// writeRequests writes text as a requests file and returns its name.
func writeRequests(t *testing.T, text string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "reqs.jsonl")
	if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestCheckRoutes: both versions need a header route on compare's header, with their own name as
// value, to their own destination.
func TestCheckRoutes(t *testing.T) {
	t.Parallel()
	blue, green := bothRoutes[0], bothRoutes[1]
	wrongDest := summary.HeaderRoute{Version: "green", Header: "x-api-version", Value: "blue", Path: "/score"}
	for _, tc := range []struct {
		name   string
		routes []summary.HeaderRoute
		header string
		want   string
	}{
		{"both", bothRoutes, "x-api-version", ""},
		{"header case", bothRoutes, "X-Api-Version", ""},
		{"none (Green_100, Rollback)", nil, "x-api-version", "no header route x-api-version: blue to blue"},
		{"green only", []summary.HeaderRoute{green}, "x-api-version", "no header route x-api-version: blue to blue"},
		{"blue only", []summary.HeaderRoute{blue}, "x-api-version", "no header route x-api-version: green to green"},
		{"blue's value to green's Service", []summary.HeaderRoute{wrongDest, green}, "x-api-version", "no header route x-api-version: blue to blue"},
		{"another routing header", bothRoutes, "x-model", "no header route x-model: blue to blue"},
	} {
		err := CheckRoutes(tc.routes, tc.header)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestBlueNeverAnswered (found by the #11 break-it review, C1): with no header route to blue, green
// answers both copies; compare must never call that agreement. With the live routes known (the
// cluster's, or the stage's result) nothing is sent and the comparison fails; without them the
// byte-for-byte identical answers are undecided, never agrees.
func TestBlueNeverAnswered(t *testing.T) {
	t.Parallel()
	t.Run("routes known", func(t *testing.T) {
		t.Parallel()
		gw, hits := greenOnly(t)
		o := options(gw)
		o.Routes = bothRoutes[1:]
		_, err := Run(t.Context(), strings.NewReader(grid(100)), "reqs.jsonl", o)
		if err == nil || !strings.Contains(err.Error(), "no header route x-api-version: blue to blue") || hits.Load() != 0 {
			t.Errorf("%v (blue reached %d times)", err, hits.Load())
		}
	})
	t.Run("routes unknown", func(t *testing.T) {
		t.Parallel()
		gw, hits := greenOnly(t)
		o := options(gw)
		o.RoutesKnown, o.Routes = false, nil
		r := run(t, grid(1000), o)
		if hits.Load() != 0 {
			t.Fatalf("setup: blue was reached %d times", hits.Load())
		}
		if r.Verdict != analysis.Undecided || r.Failure() == nil || r.Identical != 1000 || r.RoutesChecked ||
			!strings.HasPrefix(r.Reason, "blue answered all 1000 requests both versions answered validly byte for byte like green") {
			t.Errorf("no request reached blue (its model flips labels), yet: %s: %s", r.Verdict, r.Reason)
		}
	})
	t.Run("routes unknown, one transient error on the copy sent as blue's", func(t *testing.T) {
		t.Parallel()
		// Green answers both copies and, under twice the traffic, one of them 503: 999 pairs stay
		// identical and the one with an invalid blue answer must not disarm the rule.
		var blueHits, asBlue atomic.Int64
		gm := scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.5123, 0)})
		green := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("x-api-version") == "blue" && asBlue.Add(1) == 500 {
				http.Error(w, "upstream overloaded", http.StatusServiceUnavailable)
				return
			}
			gm.ServeHTTP(w, r)
		}))
		bm := scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.6123, 0)})
		blue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { blueHits.Add(1); bm.ServeHTTP(w, r) }))
		t.Cleanup(green.Close)
		t.Cleanup(blue.Close)
		gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{
			Backends: map[string]string{"green": green.URL, "blue": blue.URL},
			Weights:  summary.Weights{Green: 100},
			Routes:   []summary.HeaderRoute{{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}},
		}))
		t.Cleanup(gw.Close)
		o := options(gw.URL)
		o.RoutesKnown, o.Routes = false, nil
		r := run(t, grid(1000), o)
		if blueHits.Load() != 0 {
			t.Fatalf("setup: blue reached %d times", blueHits.Load())
		}
		if r.Verdict != analysis.Undecided || r.BothValid != 999 || r.Identical != 999 ||
			!strings.HasPrefix(r.Reason, "blue answered all 999 requests both versions answered validly byte for byte like green") {
			t.Errorf("no request reached blue; one transient 503 and compare says %s (%d compared, %d both valid, %d identical): %s",
				r.Verdict, r.Compared, r.BothValid, r.Identical, r.Reason)
		}
	})
	t.Run("routes unknown, answers that differ are judged", func(t *testing.T) {
		t.Parallel()
		o := options(gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.501, 0.5123, 0)}))
		o.RoutesKnown, o.Routes, o.Tolerance = false, nil, Tolerance{Abs: 0.01}
		if r := run(t, grid(1000), o); r.Verdict != analysis.Agrees || r.Identical != 100 {
			t.Errorf("distinct answers within the tolerance: %s (%d identical): %s", r.Verdict, r.Identical, r.Reason)
		}
	})
	t.Run("after a stage that left no header route to blue", func(t *testing.T) {
		t.Parallel()
		gw, hits := greenOnly(t)
		file := writeRequests(t, grid(100))
		so, err := NewStageInputs(file).Options(config.Default(), "auto")
		if err != nil {
			t.Fatal(err)
		}
		res := &summary.Result{Stage: "Blue_0", Images: summary.Images{Green: "m:1", Blue: "m:2"}, Routes: bothRoutes[1:]}
		got := AfterStage(t.Context(), so, res, nil, verify.Outcome{Report: &verify.Report{Gateway: gw}})
		if got.Err == nil || !strings.Contains(got.Err.Error(), "Blue_0 holds, but the answers could not be compared: the VirtualService has no header route") || hits.Load() != 0 {
			t.Errorf("%v (blue reached %d times)", got.Err, hits.Load())
		}
	})
}

// TestRoutesOf: the live VirtualService's header routes on compare's header, each under the version
// its destination reaches, the first route of a value only (Istio's order).
func TestRoutesOf(t *testing.T) {
	t.Parallel()
	route := func(header, value, host string) any {
		return map[string]any{"match": []any{map[string]any{"uri": map[string]any{"prefix": "/score"},
			"headers": map[string]any{header: map[string]any{"exact": value}}}},
			"route": []any{map[string]any{"destination": map[string]any{"host": host}}}}
	}
	versionOf := func(host string) string {
		return map[string]string{"model-svc-blue": "blue", "model-svc-green.ns.svc.cluster.local": "green"}[host]
	}
	vs := func(routes ...any) map[string]any { return map[string]any{"spec": map[string]any{"http": routes}} }
	for _, tc := range []struct {
		name string
		vs   map[string]any
		want []summary.HeaderRoute
		ok   bool
	}{
		{"both", vs(route("x-api-version", "blue", "model-svc-blue"), route("X-Api-Version", "green", "model-svc-green.ns.svc.cluster.local"),
			map[string]any{"route": []any{}}), bothRoutes, true},
		{"none", vs(map[string]any{"route": []any{}}), nil, false},
		{"no spec", map[string]any{}, nil, false},
		{"blue's value to green's Service", vs(route("x-api-version", "blue", "model-svc-green.ns.svc.cluster.local"), route("x-api-version", "green", "model-svc-green.ns.svc.cluster.local")),
			[]summary.HeaderRoute{{Version: "green", Header: "x-api-version", Value: "blue", Path: "/score"}, bothRoutes[1]}, false},
		{"the first of two routes wins", vs(route("x-api-version", "blue", "audit"), route("x-api-version", "blue", "model-svc-blue"), route("x-api-version", "green", "model-svc-green.ns.svc.cluster.local")),
			[]summary.HeaderRoute{{Version: "", Header: "x-api-version", Value: "blue", Path: "/score"}, bothRoutes[1]}, false},
		{"another header", vs(route("x-model", "blue", "model-svc-blue"), route("x-model", "green", "model-svc-green.ns.svc.cluster.local")), nil, false},
	} {
		got := RoutesOf(tc.vs, "x-api-version", versionOf)
		if !cmp.Equal(got, tc.want) || (CheckRoutes(got, "x-api-version") == nil) != tc.ok {
			t.Errorf("%s: %+v (check %v), want %+v", tc.name, got, CheckRoutes(got, "x-api-version"), tc.want)
		}
	}
}
