package frontend

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
		err = Run(t.Context(), source{req: req}, rep, Engine{Stage: stageReturns(tc.res, nil), Verify: verifiedAt(tc.gw)})
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

// compareRecorder records the run like recorder, and the comparison's section of the summary.
type compareRecorder struct{ recorder }

func (r *compareRecorder) Summary(_ context.Context, o Outcome) error {
	md := o.Compare.Markdown()
	line, _, _ := strings.Cut(strings.TrimPrefix(md, "### mlcanary "), "\n")
	r.add("%s", line)
	return nil
}
