package frontend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// judged is an analysis outcome with verdict v (blue 30% errors when degraded), or problem.
func judged(v analysis.Verdict, problem string) analyze.Outcome {
	blue := analysis.Count{Bad: 0, Of: 1000}
	if v == analysis.Degraded {
		blue.Bad = 300
	}
	share := analysis.ShareResult{Name: "errors", Margin: 0.01, Blue: blue, Green: analysis.Count{Of: 1000}, Verdict: v}
	return analyze.Outcome{Decision: analysis.Decision{Verdict: v, Shares: []analysis.ShareResult{share}}, Looks: 2, Problem: problem,
		Measured: istioprom.Result{Endpoint: "http://prom"}, Deadline: time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)}
}

// TestAnalysisGate: the gate runs after the stage holds, in its own part of the run, still holding
// the namespace's lock, and a degraded blue is rolled back under that same lock before it is
// released; hold, undecided (fail or pass), a failed query and observe-only never roll back. Each
// failure is the run's one error, after the outputs and the summary of what holds now.
func TestAnalysisGate(t *testing.T) {
	rolledBack := &summary.Result{Stage: "Rollback", Weights: summary.Weights{Green: 100}}
	for _, c := range []struct {
		name     string
		gate     analyze.Gate
		outcome  analyze.Outcome
		queryErr error
		want     []string // the calls after the stage's part began
		wantErr  string
		action   string
	}{
		{"agrees", analyze.Gate{OnDegraded: "rollback", OnUndecided: "fail"}, judged(analysis.Agrees, ""), nil,
			[]string{"lock", "stage Blue_50", "end 0 passed=false", "begin 3 analysis after Blue_50: blue against green", "analyze", "end 3 passed=true", "release", "output stage=Blue_50"}, "", ActionNone},
		{"degraded, rolled back under the lock", analyze.Gate{OnDegraded: "rollback", OnUndecided: "fail"}, judged(analysis.Degraded, ""), nil,
			[]string{"lock", "stage Blue_50", "end 0 passed=false", "begin 3 analysis after Blue_50: blue against green", "analyze", "stage Rollback", "end 3 passed=false", "release", "output stage=Rollback"},
			"Blue_50 held, but blue is degraded: errors: blue 30.00% (300 of 1000), green 0.00% (0 of 1000): blue +0.00 points, interval +0.00 to +0.00, which is more than the allowed +1.00; rolled back automatically: green 100%, blue 0%",
			ActionRolledBack},
		{"degraded, held", analyze.Gate{OnDegraded: "hold", OnUndecided: "fail"}, judged(analysis.Degraded, ""), nil,
			[]string{"lock", "stage Blue_50", "end 0 passed=false", "begin 3 analysis after Blue_50: blue against green", "analyze", "end 3 passed=false", "release", "output stage=Blue_50"},
			"Blue_50 holds, but blue is degraded: errors: blue 30.00% (300 of 1000), green 0.00% (0 of 1000): blue +0.00 points, interval +0.00 to +0.00, which is more than the allowed +1.00; traffic is left as Blue_50 put it",
			ActionHeld},
		{"undecided fails", analyze.Gate{OnDegraded: "rollback", OnUndecided: "fail"}, judged(analysis.Undecided, "the newest sample is old"), nil,
			[]string{"lock", "stage Blue_50", "end 0 passed=false", "begin 3 analysis after Blue_50: blue against green", "analyze", "end 3 passed=false", "release", "output stage=Blue_50"},
			"Blue_50 holds, but the analysis after it is undecided after 2 looks until 2026-11-29T23:00:00Z: the newest sample is old; traffic is left as Blue_50 put it",
			ActionHeld},
		{"undecided passes", analyze.Gate{OnDegraded: "rollback", OnUndecided: "pass"}, judged(analysis.Undecided, "the newest sample is old"), nil,
			[]string{"lock", "stage Blue_50", "end 0 passed=false", "begin 3 analysis after Blue_50: blue against green", "analyze", "end 3 passed=true", "release", "output stage=Blue_50"}, "", ActionNone},
		{"a failed query fails, never rolls back", analyze.Gate{OnDegraded: "rollback", OnUndecided: "pass"}, analyze.Outcome{Looks: 1}, errors.New("querying http://prom: 503"),
			[]string{"lock", "stage Blue_50", "end 0 passed=false", "begin 3 analysis after Blue_50: blue against green", "analyze", "end 3 passed=false", "release", "output stage=Blue_50"},
			"Blue_50 holds, but the analysis after it failed: querying http://prom: 503; traffic is left as Blue_50 put it", ActionHeld},
		{"observe only", analyze.Gate{OnDegraded: "rollback", OnUndecided: "fail", Observe: true}, judged(analysis.Degraded, ""), nil,
			[]string{"lock", "stage Blue_50", "end 0 passed=false", "begin 3 analysis after Blue_50: blue against green", "analyze", "end 3 passed=true", "release", "output stage=Blue_50"}, "", ActionObserved},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := recorder{}
			eng := Engine{
				Lock: func(ctx context.Context, _ *rest.Config, _ config.Config, _ engine.Logger) (context.Context, engine.Fence, func() error, error) {
					rep.add("lock")
					return ctx, heldFence{}, func() error { rep.add("release"); return nil }, nil
				},
				Stage: func(_ context.Context, _ *rest.Config, cfg config.Config, _ engine.Logger) (*summary.Result, error) {
					rep.add("stage %s", cfg.Stage)
					if cfg.Stage.Kind == config.KindRollback {
						return rolledBack, nil
					}
					return held, nil
				},
				Analyze: func(context.Context, config.Config, analyze.Inputs, time.Time, analyze.Identity) (analyze.Outcome, error) {
					rep.add("analyze")
					return c.outcome, c.queryErr
				},
			}
			req := request(t, "")
			g := c.gate
			req.Analysis = &g
			var got *Analysis
			err := Run(context.Background(), source{req: req}, &summaryRecorder{recorder: &rep, got: &got}, eng)
			if fmt.Sprint(err) != c.wantErr && (err != nil || c.wantErr != "") {
				t.Errorf("error %v\nwant  %s", err, c.wantErr)
			}
			calls := dropLogs(rep.calls[2:]) // after preflight, begin 0
			if i := len(c.want); len(calls) > i {
				calls = calls[:i]
			}
			if d := cmp.Diff(c.want, calls); d != "" {
				t.Errorf("calls (-want +got):\n%s\nall: %q", d, rep.calls)
			}
			if got == nil || got.Action != c.action {
				t.Errorf("summary's analysis %+v, want action %q", got, c.action)
			}
		})
	}
}

// heldFence is the lock of a stage that took it (it wrote).
type heldFence struct{}

func (heldFence) Peek(context.Context) error         { return nil }
func (heldFence) Busy() bool                         { return false }
func (heldFence) Held() bool                         { return true }
func (heldFence) Take(context.Context) (bool, error) { return false, nil }

// summaryRecorder records like recorder and keeps the summary's analysis.
type summaryRecorder struct {
	*recorder
	got **Analysis
}

func (r *summaryRecorder) Summary(ctx context.Context, o Outcome) error {
	*r.got = o.Analysis
	return r.recorder.Summary(ctx, o)
}

func dropLogs(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "log ") {
			out = append(out, c)
		}
	}
	return out
}

// TestFailedRollbackServesFromTheReadyVersion: when the automatic Rollback after a degraded blue
// fails, the run leaves traffic on something that works. Green not ready (deleted while blue was
// judged) and blue ready: Blue_100 is performed — blue is degraded but serving — and the one line
// says so; a green that is ready, a blue that is not, a live state that cannot be read or a failed
// Blue_100 leave the split as the stage put it, the line saying what holds.
func TestFailedRollbackServesFromTheReadyVersion(t *testing.T) {
	const refused = "Rollback: green (Deployment ns/model-green) must exist and be ready, but it does not exist"
	const head = "Blue_50 holds, but blue is degraded: errors: blue 30.00% (300 of 1000), green 0.00% (0 of 1000): blue +0.00 points, interval +0.00 to +0.00, which is more than the allowed +1.00; the automatic Rollback failed: " + refused
	live := func(green, blue bool) *summary.Result {
		return &summary.Result{Stage: "Blue_50", Weights: summary.Weights{Green: 50, Blue: 50}, Ready: summary.Ready{Green: green, Blue: blue}}
	}
	for _, c := range []struct {
		name      string
		live      *summary.Result
		statusErr error
		blue100   error
		calls     []string
		stage     string
		wantErr   string
	}{
		{"green gone, blue ready: all traffic to blue", live(false, true), nil, nil, []string{"stage Rollback", "status", "stage Blue_100"}, "Blue_100",
			head + "; green is not ready, so all traffic was sent to blue, the only ready version, although it is degraded (Blue_100 holds now): restore green, then run Rollback"},
		{"green ready: the split stays", live(true, true), nil, nil, []string{"stage Rollback", "status"}, "Blue_50", head},
		{"blue not ready either: nothing moves", live(false, false), nil, nil, []string{"stage Rollback", "status"}, "Blue_50", head},
		{"the live state cannot be read: nothing moves", nil, errors.New("connection refused"), nil, []string{"stage Rollback", "status"}, "Blue_50", head},
		{"Blue_100 fails too", live(false, true), nil, errors.New("the lock was lost"), []string{"stage Rollback", "status", "stage Blue_100"}, "Blue_50",
			head + "; green is not ready and sending all traffic to blue failed too: the lock was lost; 50% of the traffic still goes to green"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var calls []string
			eng := Engine{
				Stage: func(_ context.Context, _ *rest.Config, cfg config.Config, _ engine.Logger) (*summary.Result, error) {
					calls = append(calls, "stage "+cfg.Stage.String())
					if cfg.Stage.Kind == config.KindRollback {
						return nil, errors.New(refused)
					}
					if c.blue100 != nil {
						return nil, c.blue100
					}
					return &summary.Result{Stage: "Blue_100", Weights: summary.Weights{Blue: 100}}, nil
				},
				Analyze: func(context.Context, config.Config, analyze.Inputs, time.Time, analyze.Identity) (analyze.Outcome, error) {
					return judged(analysis.Degraded, ""), nil
				},
				Status: func(context.Context, *rest.Config, config.Config) (*summary.Result, error) {
					calls = append(calls, "status")
					return c.live, c.statusErr
				},
			}
			cfg := request(t, "").Config
			res, a, err := analyzeAfter(context.Background(), eng, nil, cfg, &analyze.Gate{OnDegraded: "rollback", OnUndecided: "fail"},
				analyze.Identity{}, held, func(string, ...any) {})
			if fmt.Sprint(err) != c.wantErr || a.Err == nil || a.Err.Error() != c.wantErr {
				t.Errorf("error %v\nwant  %s", err, c.wantErr)
			}
			if d := cmp.Diff(c.calls, calls); d != "" {
				t.Errorf("calls (-want +got):\n%s", d)
			}
			if res.Stage != c.stage {
				t.Errorf("what holds now: %s, want %s", res.Stage, c.stage)
			}
			if toBlue := c.stage == "Blue_100"; (a.Action == ActionToBlue) != toBlue || toBlue != strings.Contains(a.Markdown(), "Rollback failed, all traffic on blue") {
				t.Errorf("action %q, summary:\n%s", a.Action, a.Markdown())
			}
		})
	}
}
