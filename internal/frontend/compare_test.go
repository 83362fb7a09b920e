package frontend

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/compare"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// TestRunCompare: with compare-requests, once verification has measured the gateway the stage's run
// sends the requests to both versions through it, in its own part of the log, sets the agreement
// output after verified, puts the report in the summary, and fails the run when blue's answers
// differ; a stage that leaves no blue, and a failed verification's missing report, skip it.
func TestRunCompare(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "requests.jsonl")
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "[%g, %g]\n", float64(i%100)/100, float64(i/100)/10)
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	routes := []summary.HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
		{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}}
	held := &summary.Result{Stage: held.Stage, Weights: held.Weights, Images: held.Images, Routes: routes} // Blue_50 leaves both header routes
	versions := func(blueThreshold float64) string {
		m := func(th float64) *scoringmock.Model {
			return &scoringmock.Model{Weights: []float64{0.25, 0.5}, Bias: -0.1, Threshold: th, Labels: scoringmock.DefaultLabels}
		}
		g := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Model: m(0.5123)}))
		bl := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Model: m(blueThreshold)}))
		gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": g.URL, "blue": bl.URL},
			Routes: routes}))
		t.Cleanup(func() { gw.Close(); g.Close(); bl.Close() })
		return gw.URL
	}
	verifiedAt := func(gw string) VerifyFunc {
		return func(context.Context, *rest.Config, config.Config, verify.Options) (*verify.Report, error) {
			return &verify.Report{Gateway: gw, Passed: true}, nil
		}
	}
	outputs := []string{"output stage=Blue_50", "output green-weight=50", "output blue-weight=50",
		"output green-image=m:1", "output blue-image=m:2", "output changed=false", "output decision="}
	for _, tc := range []struct {
		name    string
		gw      string
		res     *summary.Result
		tail    []string
		wantErr string
	}{
		{"blue agrees", versions(0.5123), held, []string{"begin 1 GW", "end 1 passed=true", "output verified=true",
			"begin 2 1000 requests from FILE through GW", "end 2 passed=true", "output agreement=1.0000", "compare: ✅ blue agrees with green"}, ""},
		{"labels flip", versions(0.6123), held, []string{"begin 1 GW", "end 1 passed=true", "output verified=true",
			"begin 2 1000 requests from FILE through GW", "end 2 passed=false", "output agreement=0.9500", "compare: ❌ blue's answers differ"},
			"Blue_50 holds, but blue's answers differ from green's: 50 of 1000 compared requests disagree"}, // scores in [0.5123, 0.6123): 50 of the grid
		{"no blue after the stage", versions(0.5123), &summary.Result{Stage: "Green_100", Weights: summary.Weights{Green: 100}, Images: summary.Images{Green: "m:1"}},
			[]string{"begin 1 GW", "end 1 passed=true", "output verified=true", "output agreement=", "compare: skipped"}, ""},
	} {
		req := request(t, tc.gw)
		o, err := compare.NewStageInputs(file).Options(req.Config, tc.gw)
		if err != nil {
			t.Fatal(err)
		}
		req.Compare = o
		rep := &compareRecorder{}
		err = Run(t.Context(), source{req: req}, rep, Engine{Stage: stageReturns(tc.res, nil), Verify: verifiedAt(tc.gw), VirtualService: liveVS(nil)})
		if got := fmt.Sprint(err); tc.wantErr == "" && err != nil || tc.wantErr != "" && !strings.HasPrefix(got, tc.wantErr) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
		want := append([]string{"preflight", "begin 0 Blue_50 in namespace scoring", "log routing", "end 0 passed=false"}, outputs...)
		if tc.res != held {
			want = append(want[:4], "output stage=Green_100", "output green-weight=100", "output blue-weight=0", "output green-image=m:1", "output blue-image=", "output changed=false", "output decision=")
		}
		want = append(want, tc.tail...)
		got := strings.Split(strings.NewReplacer(tc.gw, "GW", file, "FILE").Replace(strings.Join(rep.calls, "\n")), "\n")
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: reporter calls (-want +got):\n%s", tc.name, d)
		}
	}
}

// liveVS reads a live VirtualService with mlcanary's two header routes and its default route, bound
// to mlcanary's Gateway; blueMatch is merged into blue's header route's match (a kubectl edit).
func liveVS(blueMatch map[string]any) VirtualServiceFunc {
	return func(_ context.Context, _ *rest.Config, cfg config.Config) (map[string]any, error) {
		header := func(v string) any {
			m := map[string]any{"uri": map[string]any{"prefix": cfg.URIPrefix}, "headers": map[string]any{cfg.Header: map[string]any{"exact": v}}}
			if v == "blue" {
				for k, x := range blueMatch {
					m[k] = x
				}
			}
			return map[string]any{"name": "mlcanary-" + v, "match": []any{m},
				"route": []any{map[string]any{"destination": map[string]any{"host": cfg.Objects[config.Version(v)].Service}}}}
		}
		return map[string]any{"spec": map[string]any{"hosts": []any{"*"}, "gateways": []any{cfg.Gateway}, "http": []any{header("blue"), header("green"),
			map[string]any{"name": "mlcanary-default", "route": []any{map[string]any{"destination": map[string]any{"host": cfg.Objects[config.Green].Service}}}}}}}, nil
	}
}

// TestRunCompareChecksTheLiveRoutes (found by the second #11 break-it review, D1): after a stage
// the comparison checks the LIVE VirtualService, not the routes the stage planned: blue's header
// route edited to in-mesh callers only (gateways: [mesh]) is refused, nothing sent, the route named.
func TestRunCompareChecksTheLiveRoutes(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "requests.jsonl")
	if err := os.WriteFile(file, []byte("[0.1, 0.2]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	gw := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(gw.Close)
	req := request(t, gw.URL)
	o, err := compare.NewStageInputs(file).Options(req.Config, gw.URL)
	if err != nil {
		t.Fatal(err)
	}
	req.Compare = o
	res := &summary.Result{Stage: held.Stage, Weights: held.Weights, Images: held.Images,
		Routes: []summary.HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"}, {Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}}}
	err = Run(t.Context(), source{req: req}, &compareRecorder{}, Engine{Stage: stageReturns(res, nil), Verify: func(context.Context, *rest.Config, config.Config, verify.Options) (*verify.Report, error) {
		return &verify.Report{Gateway: gw.URL, Passed: true}, nil
	}, VirtualService: liveVS(map[string]any{"gateways": []any{"mesh"}})})
	want := `Blue_50 holds, but the answers could not be compared: line 1's copy for blue (POST /score with x-api-version: blue) is taken by route http[2] "mlcanary-default"`
	if err == nil || !strings.HasPrefix(err.Error(), want) || hits.Load() != 0 {
		t.Errorf("%v (%d requests sent)\nwant %s…", err, hits.Load(), want)
	}
}

// compareRecorder records the run like recorder, and the comparison's section of the summary.
type compareRecorder struct{ recorder }

func (r *compareRecorder) Summary(_ context.Context, o Outcome) error {
	md := o.Compare.Markdown()
	line, _, _ := strings.Cut(strings.TrimPrefix(md, "### mlcanary "), "\n")
	r.add("%s", line)
	return nil
}
