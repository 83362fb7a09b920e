package frontend

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// freeFence is the lock of a stage that wrote nothing (a re-run that holds): not held, free when
// peeked; Take records the call and says whether the lock changed hands since (again).
type freeFence struct {
	rep   *recorder
	again bool
	held  bool
}

func (*freeFence) Peek(context.Context) error { return nil }
func (*freeFence) Busy() bool                 { return false }
func (f *freeFence) Held() bool               { return f.held }
func (f *freeFence) Take(context.Context) (bool, error) {
	f.rep.add("take")
	f.held = true
	return f.again, nil
}

// TestAnalysisAfterAHoldingStageTakesTheLock: a stage that wrote nothing took no lock, but the
// analysis and its automatic Rollback hold it, so no other run can move traffic while blue is
// judged: the lock is taken before the analysis; when it changed hands since the stage's reads,
// the stage is performed again holding it, and the analysis judges what holds then.
func TestAnalysisAfterAHoldingStageTakesTheLock(t *testing.T) {
	for _, c := range []struct {
		again bool
		want  []string
	}{
		{false, []string{"lock", "stage Blue_50", "take", "end 0 passed=false", "begin 3 analysis after Blue_50: blue against green", "analyze", "end 3 passed=true", "release"}},
		{true, []string{"lock", "stage Blue_50", "take", "stage Blue_50", "end 0 passed=false", "begin 3 analysis after Blue_50: blue against green", "analyze", "end 3 passed=true", "release"}},
	} {
		rep := recorder{}
		eng := Engine{
			Lock: func(ctx context.Context, _ *rest.Config, _ config.Config, _ engine.Logger) (context.Context, engine.Fence, func() error, error) {
				rep.add("lock")
				return ctx, &freeFence{rep: &rep, again: c.again}, func() error { rep.add("release"); return nil }, nil
			},
			Stage: func(_ context.Context, _ *rest.Config, cfg config.Config, _ engine.Logger) (*summary.Result, error) {
				rep.add("stage %s", cfg.Stage)
				return &summary.Result{Stage: "Blue_50", Weights: summary.Weights{Green: 50, Blue: 50}}, nil
			},
			Analyze: func(context.Context, config.Config, analyze.Inputs, time.Time, analyze.Identity) (analyze.Outcome, error) {
				rep.add("analyze")
				return judged(analysis.Agrees, ""), nil
			},
		}
		req := request(t, "")
		req.Analysis = &analyze.Gate{OnDegraded: "rollback", OnUndecided: "fail"}
		var got *Analysis
		if err := Run(context.Background(), source{req: req}, &summaryRecorder{recorder: &rep, got: &got}, eng); err != nil {
			t.Fatal(err)
		}
		calls := dropLogs(rep.calls[2:])
		if len(calls) > len(c.want) {
			calls = calls[:len(c.want)]
		}
		if d := cmp.Diff(c.want, calls); d != "" {
			t.Errorf("again=%v: calls (-want +got):\n%s", c.again, d)
		}
	}
}
