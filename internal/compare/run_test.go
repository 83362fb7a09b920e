package compare

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// model is serve-model's deterministic model with weights 0.25, w2, bias -0.1 and a threshold.
func model(w2, threshold, nan float64) *scoringmock.Model {
	return &scoringmock.Model{Weights: []float64{0.25, w2}, Bias: -0.1, Threshold: threshold, Labels: scoringmock.DefaultLabels, NaNRate: nan}
}

// gateway starts green and blue scoring mockups on loopback behind the test gateway's header routes
// (x-api-version: green|blue on /score) and returns the gateway's URL.
func gateway(t *testing.T, green, blue scoringmock.Options) string {
	t.Helper()
	g := httptest.NewServer(scoringmock.Handler(green))
	b := httptest.NewServer(scoringmock.Handler(blue))
	t.Cleanup(g.Close)
	t.Cleanup(b.Close)
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{
		Backends: map[string]string{"green": g.URL, "blue": b.URL},
		Routes: []summary.HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
			{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}},
	}))
	t.Cleanup(gw.Close)
	return gw.URL
}

// grid is n requests [u, v] with u = (i mod 100)/100 and v = (i div 100)/10: scores on a grid of
// 0.0025 steps, none within 0.001 of the thresholds the tests use (x.x123).
func grid(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[%g, %g]\n", float64(i%100)/100, float64(i/100)/10)
	}
	return b.String()
}

// bothRoutes are the header routes gateway and routed configure, as the cluster would list them.
var bothRoutes = []summary.HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
	{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}}

// options compares through gw, whose live VirtualService is known to be bothVS (its header routes bothRoutes).
func options(gw string) Options {
	return Options{Gateway: gw, Path: "/score", Header: "x-api-version", Concurrency: 8, Timeout: 30 * time.Second, // far above loopback latency on a busy machine
		Tolerance: Tolerance{Rel: 1e-9}, Top: 5, MaxDisagreement: 0.01, Confidence: 0.99, RoutesKnown: true, Live: liveOf(bothVS())}
}

func run(t *testing.T, requests string, o Options) *Report {
	t.Helper()
	r, err := Run(t.Context(), strings.NewReader(requests), "reqs.jsonl", o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// flips counts the grid's requests whose labels differ between two models, by the model itself.
func flips(t *testing.T, n int, green, blue *scoringmock.Model) int {
	t.Helper()
	k := 0
	for i := range n {
		body := fmt.Appendf(nil, "[%g, %g]", float64(i%100)/100, float64(i/100)/10)
		_, lg, err1 := green.Score(body)
		_, lb, err2 := blue.Score(body)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if lg != lb {
			k++
		}
	}
	return k
}

// TestCompareThroughGateway: two model versions on loopback behind the test gateway, compared
// through their header routes, decided correctly, with the statistics of known cases.
func TestCompareThroughGateway(t *testing.T) {
	t.Parallel()
	const n = 1000
	t.Run("identical versions agree", func(t *testing.T) {
		t.Parallel()
		r := run(t, grid(n), options(gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.5, 0.5123, 0)})))
		if r.Verdict != analysis.Agrees || r.Requests != n || r.Compared != n || r.Agreed != n || len(r.Divergent) != 0 {
			t.Errorf("%s: %d requests, %d compared, %d agreed, %d divergent; want agrees, all %d", r.Verdict, r.Requests, r.Compared, r.Agreed, len(r.Divergent), n)
		}
		if len(r.Fields) != 1 || r.Fields[0].Path != "score" || r.Fields[0].N != n || r.Fields[0].MaxDifference != 0 {
			t.Errorf("fields %+v", r.Fields)
		}
		if s := r.Shift; s == nil || s.Field != "score" || s.D != 0 || s.P != 1 || s.Green != n {
			t.Errorf("shift %+v, want D 0 and p 1 on score", s)
		}
		if r.Green.Valid != n || r.Blue.Valid != n || r.Green.Latency.Count != n || r.Blue.Latency.Count != n || r.Rate <= 0 {
			t.Errorf("green %+v blue %+v rate %g", r.Green, r.Blue, r.Rate)
		}
	})
	t.Run("slightly different within the tolerance agree", func(t *testing.T) {
		t.Parallel()
		o := options(gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.501, 0.5123, 0)}))
		o.Tolerance = Tolerance{Abs: 0.01}
		r := run(t, grid(n), o)
		if r.Verdict != analysis.Agrees || r.Agreed != n {
			t.Errorf("%s, %d agreed: %s", r.Verdict, r.Agreed, r.Reason)
		}
		// blue − green = 0.001·v, v = 0 … 0.9 in tenths, 100 requests each: mean 0.00045, max 0.0009.
		f := r.Fields[0]
		if math.Abs(f.MeanAbsDifference-0.00045) > 1e-12 || math.Abs(f.MaxDifference-0.0009) > 1e-12 || f.Outside != 0 {
			t.Errorf("score differences %+v, want mean 0.00045, max 0.0009, none outside", f)
		}
		// Without the tolerance the same versions differ on every request with v > 0 (900 of 1000).
		o.Tolerance = Tolerance{Rel: 1e-9}
		r = run(t, grid(n), o)
		if r.Verdict != analysis.Degraded || r.Agreed != 100 || r.Fields[0].Outside != 900 {
			t.Errorf("exact: %s, %d agreed, %d outside; want degraded, 100, 900", r.Verdict, r.Agreed, r.Fields[0].Outside)
		}
		for _, d := range r.Divergent { // the largest differences: v = 0.9, lines 901 to 1000 (which ones: float rounding)
			if d.Line < 901 || math.Abs(d.Divergence-0.0009) > 1e-12 || !strings.HasPrefix(d.Difference, "score: ") {
				t.Errorf("most divergent %+v, want a difference of 0.0009 from lines 901 to 1000", d)
			}
		}
		if len(r.Divergent) != 5 {
			t.Errorf("%d divergent requests shown, want --top 5", len(r.Divergent))
		}
	})
	t.Run("label flipping is degraded", func(t *testing.T) {
		t.Parallel()
		green, blue := model(0.5, 0.5123, 0), model(0.5, 0.6123, 0)
		want := flips(t, n, green, blue)
		r := run(t, grid(n), options(gateway(t, scoringmock.Options{Model: green}, scoringmock.Options{Model: blue})))
		if r.Verdict != analysis.Degraded || r.Agreed != n-want || want < 50 {
			t.Errorf("%s, %d agreed; want degraded with %d flipped of %d", r.Verdict, r.Agreed, want, n)
		}
		if math.Abs(r.Disagreement-float64(want)/n) > 1e-12 {
			t.Errorf("disagreement %g, want %g", r.Disagreement, float64(want)/n)
		}
		if d := r.Divergent; len(d) == 0 || d[0].Difference != `label: "positive" ≠ "negative"` || !strings.Contains(d[0].Green, `"positive"`) {
			t.Errorf("most divergent %+v", d)
		}
		// Compared on the score alone, the same versions agree.
		o := options(gateway(t, scoringmock.Options{Model: green}, scoringmock.Options{Model: blue}))
		p, _ := ParsePath("$.score")
		o.Fields = []Path{p}
		if r := run(t, grid(n), o); r.Verdict != analysis.Agrees {
			t.Errorf("--field score: %s: %s", r.Verdict, r.Reason)
		}
	})
	t.Run("NaN answers are invalid and disagree", func(t *testing.T) {
		t.Parallel()
		r := run(t, grid(n), options(gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.5, 0.5123, 0.05)})))
		if r.Blue.Invalid[InvalidNonFinite] != 50 || r.Blue.Valid != 950 || r.Agreed != 950 || r.Verdict != analysis.Degraded {
			t.Errorf("blue %+v, %d agreed, %s; want exactly 50 NaN answers, degraded", r.Blue, r.Agreed, r.Verdict)
		}
		if d := r.Divergent; len(d) == 0 || d[0].Difference != "blue's answer is invalid: NaN/Infinity" || !strings.Contains(d[0].Blue, "NaN") {
			t.Errorf("most divergent %+v", d)
		}
	})
	t.Run("green's own errors are not compared", func(t *testing.T) {
		t.Parallel()
		// 2% not compared, within a 5% --max-disagreement (beyond it: TestUncomparedShare).
		o := options(gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0), FailRate: 0.02}, scoringmock.Options{Model: model(0.5, 0.5123, 0)}))
		o.MaxDisagreement = 0.05
		r := run(t, grid(n), o)
		if r.Green.Invalid[InvalidStatus] != 20 || r.Compared != 980 || r.Agreed != 980 || r.Verdict != analysis.Agrees {
			t.Errorf("green %+v, %d compared, %d agreed, %s", r.Green, r.Compared, r.Agreed, r.Verdict)
		}
	})
	t.Run("timeouts", func(t *testing.T) {
		t.Parallel()
		o := options(gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.5, 0.5123, 0), Latency: 2 * time.Second}))
		o.Timeout = 200 * time.Millisecond
		r := run(t, grid(5), o)
		if r.Blue.Invalid[InvalidTimeout] != 5 || r.Blue.Latency.Count != 0 || r.Verdict != analysis.Degraded {
			t.Errorf("blue %+v, %s", r.Blue, r.Verdict)
		}
	})
	t.Run("too few requests are undecided", func(t *testing.T) {
		t.Parallel()
		r := run(t, grid(100), options(gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.5, 0.5123, 0)})))
		if r.Verdict != analysis.Undecided || r.Needed != 557 || r.Failure() == nil {
			t.Errorf("%s, needed %d: %s; want undecided, 557 more (657 in all at 99%%)", r.Verdict, r.Needed, r.Reason)
		}
	})
}

// TestCompareSendsEachLine: every line reaches both versions with its own path and headers, the
// routing header set over a line's own and the Host header sent; the gateway here echoes them.
func TestCompareSendsEachLine(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"version": r.Header.Get("x-api-version"), "trace": r.Header.Get("x-trace"),
			"path": r.URL.Path, "host": r.Host, "type": r.Header.Get("Content-Type"), "method": r.Method})
	}))
	defer echo.Close()
	o := options(echo.URL)
	o.RoutesKnown, o.Live = false, nil // an echo, not a gateway: what is sent is the point here
	o.Host = "scoring.example.com"
	for _, f := range []string{"trace", "path", "host", "type", "method"} {
		p, _ := ParsePath(f)
		o.Fields = append(o.Fields, p)
	}
	lines := `{"body": [1], "headers": {"x-trace": "t1", "x-api-version": "forged"}, "path": "/v2/score"}` + "\n" + `[2]` + "\n"
	r := run(t, lines, o)
	if r.Verdict == analysis.Degraded || r.Agreed != 2 {
		t.Errorf("%s, %d agreed: %+v", r.Verdict, r.Agreed, r.Divergent)
	}
	o.Fields = nil // the whole answer: the version differs on every line
	r = run(t, lines, o)
	if r.Agreed != 0 || len(r.Divergent) != 2 || r.Divergent[0].Line != 1 ||
		r.Divergent[0].Green != `{"host":"scoring.example.com","method":"POST","path":"/v2/score","trace":"t1","type":"application/json","version":"green"}` ||
		!strings.Contains(r.Divergent[1].Blue, `"path":"/score"`) || !strings.Contains(r.Divergent[1].Blue, `"version":"blue"`) {
		t.Errorf("divergent %+v", r.Divergent)
	}
}

// TestCompareRate: --rate spaces the lines (each sent to both versions) at that many per second.
func TestCompareRate(t *testing.T) {
	t.Parallel()
	o := options(gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.5, 0.5123, 0)}))
	o.Rate = 100
	start := time.Now()
	r := run(t, grid(51), o)
	if took := time.Since(start); took < 500*time.Millisecond || r.Requests != 51 {
		t.Errorf("51 lines at 100/s took %s (%d sent), want at least 0.5s", took, r.Requests)
	}
}

// TestCompareInterrupted: Ctrl-C stops the comparison promptly; what was answered is reported,
// and the requests abandoned in flight are not counted as invalid answers.
func TestCompareInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var seen atomic.Int64
	slow := scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.5123, 0), Latency: 100 * time.Millisecond})
	blue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) == 6 {
			cancel() // Ctrl-C while requests are in flight
		}
		slow.ServeHTTP(w, r)
	}))
	defer blue.Close()
	green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.5123, 0)}))
	defer green.Close()
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": green.URL, "blue": blue.URL},
		Routes: []summary.HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
			{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}}}))
	defer gw.Close()
	o := options(gw.URL)
	o.Concurrency = 2
	start := time.Now()
	r, err := Run(ctx, strings.NewReader(grid(1000)), "reqs.jsonl", o)
	if err != nil || !r.Interrupted || r.Requests > 10 || time.Since(start) > 10*time.Second {
		t.Fatalf("report %+v, err %v after %s; want interrupted after a few requests, promptly", r, err, time.Since(start))
	}
	if len(r.Blue.Invalid)+len(r.Green.Invalid) != 0 || r.Agreed != r.Requests {
		t.Errorf("abandoned requests counted: green %+v, blue %+v, %d of %d agreed", r.Green.Invalid, r.Blue.Invalid, r.Agreed, r.Requests)
	}
	if r.Verdict == analysis.Agrees || r.Failure() == nil {
		t.Errorf("interrupted after %d requests, all alike: %s (exit 0): %s", r.Requests, r.Verdict, r.Reason)
	}
}

// TestInterruptedCompareDoesNotAgree (second #11 break-it review, D7): SIGTERM or Ctrl-C (a CI
// timeout or cancel, a pod eviction) after 900 of 2000 lines of identical models: the partial report
// is undecided and fails, never "agrees".
func TestInterruptedCompareDoesNotAgree(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var seen atomic.Int64
	gm := scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.5123, 0)})
	green := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) == 900 {
			cancel() // SIGTERM
		}
		gm.ServeHTTP(w, r)
	}))
	blue := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.5123, 0)}))
	t.Cleanup(green.Close)
	t.Cleanup(blue.Close)
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": green.URL, "blue": blue.URL},
		Routes: []summary.HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
			{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}}}))
	t.Cleanup(gw.Close)
	r, err := Run(ctx, strings.NewReader(grid(2000)), "reqs.jsonl", options(gw.URL))
	if err != nil || !r.Interrupted {
		t.Fatalf("setup: %v, interrupted %v", err, r != nil && r.Interrupted)
	}
	if r.Verdict != analysis.Undecided || r.Failure() == nil || !strings.Contains(Markdown(r), "interrupted before every request was sent") {
		t.Errorf("interrupted after %d of 2000 lines: %s: %s", r.Requests, r.Verdict, r.Reason)
	}
}

// TestLineRoutingHeaderInAnyCase: a line's own routing header in any case
// ("x-api-version": "green", "X-API-VERSION": "green") never steers blue's copy: header names are
// canonicalised before the routing header is set over them. Kept from the second #11 break-it review.
func TestLineRoutingHeaderInAnyCase(t *testing.T) {
	t.Parallel()
	gw := gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.5, 0.6123, 0)})
	var lines strings.Builder
	for i := range 1000 {
		name := []string{"x-api-version", "X-API-VERSION"}[i%2]
		fmt.Fprintf(&lines, `{"body": [%g, %g], "headers": {%q: "green"}}`+"\n", float64(i%100)/100, float64(i/100)/10, name)
	}
	r := run(t, lines.String(), options(gw))
	if want := flips(t, 1000, model(0.5, 0.5123, 0), model(0.5, 0.6123, 0)); want == 0 || r.Compared-r.Agreed != want {
		t.Errorf("blue flips %d labels, yet %d of %d disagree: a line's own routing header steered blue's copy", want, r.Compared-r.Agreed, r.Compared)
	}
}
