package frontend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// source is a front end's inputs: each step returns what it is given.
type source struct {
	secrets    []string
	secretsErr error
	req        Request
	inputsErr  error
	derived    string // a secret Connect derives
	connectErr error
}

func (s source) Secrets() ([]string, error) { return s.secrets, s.secretsErr }
func (s source) Inputs() (Request, error)   { return s.req, s.inputsErr }
func (s source) Connect(_ context.Context, _ Request, mask func(string)) (Cluster, error) {
	if s.derived != "" {
		mask(s.derived)
	}
	return Cluster{Config: &rest.Config{Host: "https://cluster"}, Source: "test"}, s.connectErr
}

// recorder is a Reporter that writes every call as one line, in order; preflightErr is what its
// Preflight returns.
type recorder struct {
	calls        []string
	preflightErr error
}

func (r *recorder) Mask(s string)          { r.add("mask %s", s) }
func (r *recorder) Preflight() error       { r.add("preflight"); return r.preflightErr }
func (r *recorder) Begin(p Part)           { r.add("begin %d %s", p.Kind, p.Title) }
func (r *recorder) End(p Part)             { r.add("end %d passed=%v", p.Kind, p.Passed) }
func (r *recorder) Finish(error)           { r.add("finish") }
func (r *recorder) add(f string, a ...any) { r.calls = append(r.calls, fmt.Sprintf(f, a...)) }

func (r *recorder) Logf(format string, args ...any) { r.add("log "+format, args...) }
func (r *recorder) Output(o Output) error           { r.add("output %s=%s", o.Name, o.Value); return nil }
func (r *recorder) Summary(_ context.Context, o Outcome) error {
	r.add("summary %s stageErr=%v verified=%q", o.Result.Stage, o.StageErr != nil, o.Verify.Verified())
	return nil
}

func request(t *testing.T, verifyTo string) Request {
	t.Helper()
	cfg := config.Default()
	cfg.Stage, cfg.Namespace = config.Stage{Kind: config.KindBlueN, BlueWeight: 50}, "scoring"
	req := Request{Config: cfg}
	if verifyTo != "" {
		req.Verify = &verify.Options{Gateway: verifyTo}
	}
	return req
}

var held = &summary.Result{Stage: "Blue_50", Weights: summary.Weights{Green: 50, Blue: 50}, Images: summary.Images{Green: "m:1", Blue: "m:2"}}

func stageReturns(res *summary.Result, err error) StageFunc {
	return func(_ context.Context, _ *rest.Config, _ config.Config, log engine.Logger) (*summary.Result, error) {
		log("routing")
		return res, err
	}
}

func verifyReturns(passed bool) VerifyFunc {
	return func(context.Context, *rest.Config, config.Config, verify.Options) (*verify.Report, error) {
		r := &verify.Report{Gateway: "http://gw", Passed: passed}
		if !passed {
			r.Problems = []string{"default route: blue is 10%"}
		}
		return r, nil
	}
}

// TestRunOrder: every front end sees the same run, in the same order — secrets masked before any
// other call (also those Connect derives), the reporter's preflight before reading inputs and
// connecting (a reporter that could not deliver outputs or the summary refuses before anything is
// sent, not after the stage moved traffic), the stage's part, its outputs before the verification,
// verified after it, then the summary; bad input or a refused connection stops before the stage.
func TestRunOrder(t *testing.T) {
	outputs := []string{"output stage=Blue_50", "output green-weight=50", "output blue-weight=50",
		"output green-image=m:1", "output blue-image=m:2", "output changed=false", "output decision="}
	bad := &config.InputError{Input: "stage", Value: "Blue_150", Allowed: config.StageNames}
	runner := &config.InputError{Input: "GITHUB_OUTPUT", Value: "", Allowed: "a file the step can append to"}
	tests := []struct {
		name         string
		src          source
		preflightErr error
		verify       string
		stage        StageFunc
		passed       bool
		want         []string
		wantErr      string
	}{
		{name: "stage holds, no verification", src: source{secrets: []string{"tok"}, derived: "key"},
			stage: stageReturns(held, nil),
			want: append(append([]string{"mask tok", "preflight", "mask key", "begin 0 Blue_50 in namespace scoring", "log routing", "end 0 passed=false"},
				outputs...), "output verified=", "output agreement=", `summary Blue_50 stageErr=false verified=""`)},
		{name: "stage holds, traffic verified", src: source{}, verify: "gw", stage: stageReturns(held, nil), passed: true,
			want: append(append([]string{"preflight", "begin 0 Blue_50 in namespace scoring", "log routing", "end 0 passed=false"}, outputs...),
				"begin 1 http://gw", "end 1 passed=true", "output verified=true", "output agreement=", `summary Blue_50 stageErr=false verified="true"`)},
		{name: "stage holds, traffic does not match", src: source{}, verify: "gw", stage: stageReturns(held, nil),
			want: append(append([]string{"preflight", "begin 0 Blue_50 in namespace scoring", "log routing", "end 0 passed=false"}, outputs...),
				"begin 1 http://gw", "end 1 passed=false", "output verified=false", "output agreement=", `summary Blue_50 stageErr=false verified="false"`),
			wantErr: "Blue_50 holds, but traffic through http://gw does not match the live routes: default route: blue is 10%"},
		{name: "failed stage still reports what holds, not verified", src: source{}, verify: "gw",
			stage: stageReturns(held, errors.New("Blue_50 did not complete: boom; nothing was changed")),
			want: append(append([]string{"preflight", "begin 0 Blue_50 in namespace scoring", "log routing", "end 0 passed=false"}, outputs...),
				"output verified=", "output agreement=", `summary Blue_50 stageErr=true verified=""`),
			wantErr: "Blue_50 did not complete: boom; nothing was changed"},
		{name: "refused stage: no result, no outputs", src: source{}, stage: stageReturns(nil, errors.New("Blue_50: blue must exist")),
			want:    []string{"preflight", "begin 0 Blue_50 in namespace scoring", "log routing", "end 0 passed=false"},
			wantErr: "Blue_50: blue must exist"},
		{name: "secrets that fail to load are masked, then the error", src: source{secrets: []string{"line1"}, secretsErr: bad},
			want: []string{"mask line1"}, wantErr: bad.Error()},
		{name: "bad input stops before connecting", src: source{secrets: []string{"tok"}, inputsErr: bad, derived: "never"},
			want: []string{"mask tok", "preflight"}, wantErr: bad.Error()},
		{name: "connection refused", src: source{derived: "key", connectErr: errors.New("connecting to the cluster: no")},
			want: []string{"preflight", "mask key"}, wantErr: "connecting to the cluster: no"},
		{name: "a reporter that cannot deliver refuses before inputs, connecting and the stage",
			src: source{secrets: []string{"tok"}, derived: "never"}, preflightErr: runner,
			want: []string{"mask tok", "preflight"}, wantErr: runner.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.src.inputsErr == nil && tt.src.secretsErr == nil {
				tt.src.req = request(t, tt.verify)
			}
			rep := recorder{preflightErr: tt.preflightErr}
			stage := tt.stage
			if stage == nil {
				stage = func(context.Context, *rest.Config, config.Config, engine.Logger) (*summary.Result, error) {
					t.Error("the stage ran")
					return nil, nil
				}
			}
			err := Run(context.Background(), tt.src, &rep, Engine{Stage: stage, Verify: verifyReturns(tt.passed)})
			if got := fmt.Sprint(err); tt.wantErr == "" && err != nil || tt.wantErr != "" && got != tt.wantErr {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, rep.calls); d != "" {
				t.Errorf("reporter calls (-want +got):\n%s", d)
			}
		})
	}
}

// TestErrorsAreNotRenamed: Run returns the stage's own error (which the engine names by the stage)
// and bad input as the *config.InputError it is, so the exit code and the one printed line are the
// same in every front end.
func TestErrorsAreNotRenamed(t *testing.T) {
	bad := &config.InputError{Input: "image-tag", Value: "x y", Allowed: "a tag"}
	err := Run(context.Background(), source{inputsErr: bad}, &recorder{}, Engine{})
	var in *config.InputError
	if !errors.As(err, &in) || in != bad {
		t.Errorf("err = %#v, want the input error itself", err)
	}
	refused := errors.New("Blue_50: blue must exist")
	err = Run(context.Background(), source{req: request(t, "")}, &recorder{}, Engine{Stage: stageReturns(nil, refused)})
	if !errors.Is(err, refused) || err.Error() != refused.Error() || strings.Count(err.Error(), "Blue_50") != 1 {
		t.Errorf("err = %v, want the stage's error unchanged", err)
	}
}

func TestTaskName(t *testing.T) {
	for name, want := range map[string]string{"stage": "stage", "green-weight": "greenWeight", "blue-image": "blueImage", "verified": "verified"} {
		if got := TaskName(name); got != want {
			t.Errorf("TaskName(%q) = %q, want %q", name, got, want)
		}
	}
}
