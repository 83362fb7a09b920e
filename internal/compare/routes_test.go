package compare

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

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

// vsOf is a live VirtualService, as the API server returns it, bound to mlcanary's Gateway in
// config.Default's namespace, with these http routes.
func vsOf(routes ...any) map[string]any {
	return map[string]any{"metadata": map[string]any{"name": "mlmodel-virtualservice", "namespace": "abtesting"},
		"spec": map[string]any{"hosts": []any{"*"}, "gateways": []any{"mlmodel-gateway"}, "http": routes}}
}

// headerRoute is a header route on x-api-version: value with uri prefix /score to host, as render
// writes it; extra is merged into its match.
func headerRoute(name, value, host string, extra map[string]any) any {
	m := map[string]any{"uri": map[string]any{"prefix": "/score"},
		"headers": map[string]any{"x-api-version": map[string]any{"exact": value}}}
	for k, v := range extra {
		m[k] = v
	}
	return map[string]any{"name": name, "match": []any{m},
		"route": []any{map[string]any{"destination": map[string]any{"host": host}}}}
}

// defaultRoute is mlcanary's default route, all green.
func defaultRoute() any {
	return map[string]any{"name": "mlcanary-default", "match": []any{map[string]any{"uri": map[string]any{"prefix": "/score"}}},
		"route": []any{map[string]any{"destination": map[string]any{"host": "model-svc-green"}, "weight": int64(100)}}}
}

// bothVS is what a stage leaves: both header routes and the default route.
func bothVS() map[string]any {
	return vsOf(headerRoute("mlcanary-blue", "blue", "model-svc-blue", nil), headerRoute("mlcanary-green", "green", "model-svc-green", nil), defaultRoute())
}

// liveOf is the Live check of vs for config.Default's names.
func liveOf(vs map[string]any) *Live {
	cfg := config.Default()
	return NewLive(&cfg, vs)
}

// bothLive reads bothVS, as a stage's live VirtualService.
func bothLive(context.Context) (*Live, error) { return liveOf(bothVS()), nil }

// vsGateway is a gateway routing by vs itself (gatewaysim with the rules compare checks by) to a
// green and a blue whose labels flip; it counts the requests each version gets.
func vsGateway(t *testing.T, vs map[string]any) (url string, green, blue *atomic.Int64) {
	t.Helper()
	green, blue = new(atomic.Int64), new(atomic.Int64)
	counted := func(n *atomic.Int64, m http.Handler) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); m.ServeHTTP(w, r) }))
		t.Cleanup(s.Close)
		return s
	}
	g := counted(green, scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.5123, 0)}))
	b := counted(blue, scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.6123, 0)}))
	l := liveOf(vs)
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": g.URL, "blue": b.URL},
		VirtualService: vs, VersionOf: l.VersionOf, Gateway: l.Gateway, Namespace: l.Namespace}))
	t.Cleanup(gw.Close)
	return gw.URL, green, blue
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
		o.Live = liveOf(vsOf(headerRoute("mlcanary-green", "green", "model-svc-green", nil), defaultRoute()))
		_, err := Run(t.Context(), strings.NewReader(grid(100)), "reqs.jsonl", o)
		if err == nil || !strings.Contains(err.Error(), `line 1's copy for blue (POST /score with x-api-version: blue) is taken by route http[1] "mlcanary-default"`) || hits.Load() != 0 {
			t.Errorf("%v (blue reached %d times)", err, hits.Load())
		}
	})
	t.Run("routes unknown", func(t *testing.T) {
		t.Parallel()
		gw, hits := greenOnly(t)
		o := options(gw)
		o.RoutesKnown, o.Live = false, nil
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
		o.RoutesKnown, o.Live = false, nil
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
		o.RoutesKnown, o.Live, o.Tolerance = false, nil, Tolerance{Abs: 0.01}
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
		// The stage planned both header routes; the live VirtualService has only green's.
		res := &summary.Result{Stage: "Blue_0", Images: summary.Images{Green: "m:1", Blue: "m:2"}, Routes: bothRoutes}
		live := func(context.Context) (*Live, error) {
			return liveOf(vsOf(headerRoute("mlcanary-green", "green", "model-svc-green", nil), defaultRoute())), nil
		}
		got := AfterStage(t.Context(), so, res, nil, verify.Outcome{Report: &verify.Report{Gateway: gw}}, live)
		if got.Err == nil || !strings.Contains(got.Err.Error(), `Blue_0 holds, but the answers could not be compared: line 1's copy for blue`) || hits.Load() != 0 {
			t.Errorf("%v (blue reached %d times)", got.Err, hits.Load())
		}
	})
}
