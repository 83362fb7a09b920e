package frontend

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// TestVerifyAfterShadowCountsCopiesFromTheAnalysisSource: a stage front end's verification after
// Shadow_N counts the mirror's copies from the analysis gate's Prometheus source (verify.Options
// gets Copies); after a stage without a mirror, without an analysis gate, or with a paired-load
// analysis (which sees no mirror) it gets none and the report says the copies were not counted.
func TestVerifyAfterShadowCountsCopiesFromTheAnalysisSource(t *testing.T) {
	t.Parallel()
	shadow := &summary.Result{Stage: "Shadow_10", Weights: summary.Weights{Green: 100}, Images: summary.Images{Green: "m:1", Blue: "m:2"}, Mirror: 10}
	prom := analyze.NewInputs()
	prom.PrometheusURL = "http://prometheus.istio-system:9090"
	paired := analyze.NewInputs()
	paired.Source, paired.Gateway = analyze.SourceLoadtest, "http://gw"
	for _, tc := range []struct {
		name     string
		res      *summary.Result
		analysis *analyze.Inputs
		counted  bool
	}{
		{"Shadow_10 with a Prometheus analysis", shadow, &prom, true},
		{"Shadow_10 without analysis", shadow, nil, false},
		{"Shadow_10 with a paired-load analysis", shadow, &paired, false},
		{"Blue_50 with a Prometheus analysis", held, &prom, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := request(t, "http://gw")
			if tc.analysis != nil {
				req.Analysis = &analyze.Gate{Inputs: *tc.analysis, OnDegraded: "hold", OnUndecided: "pass"}
			}
			var got *verify.Options
			eng := Engine{
				Lock: func(ctx context.Context, _ *rest.Config, _ config.Config, _ engine.Logger) (context.Context, engine.Fence, func() error, error) {
					return ctx, heldFence{}, func() error { return nil }, nil
				},
				Stage: stageReturns(tc.res, nil),
				Verify: func(_ context.Context, _ *rest.Config, _ config.Config, o verify.Options) (*verify.Report, error) {
					got = &o
					return &verify.Report{Gateway: "http://gw", Passed: true}, nil
				},
				Analyze: func(context.Context, config.Config, analyze.Inputs, time.Time, analyze.Identity) (analyze.Outcome, error) {
					return judged(analysis.Agrees, ""), nil
				},
			}
			_ = Run(t.Context(), source{req: req}, &recorder{}, eng)
			if got == nil {
				t.Fatal("verify did not run")
			}
			if counted := got.Copies != nil; counted != tc.counted {
				t.Errorf("verify counts the copies: %v, want %v", counted, tc.counted)
			}
		})
	}
}
