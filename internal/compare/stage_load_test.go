package compare

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// TestStageCompareWaitsForASlowModel (second #11 break-it review, D6; F1's kind): the comparison
// after a stage takes compare's per-request timeout, rate, concurrency and confidence as stage inputs
// (compare-request-timeout, compare-rate, compare-concurrency, compare-confidence), each defaulting
// as its flag does. A model answering in 300 ms times out on every request at a 100 ms timeout (the
// step fails, nothing compared) and agrees at 5 s; the rate holds the lines to their pace.
func TestStageCompareWaitsForASlowModel(t *testing.T) {
	t.Parallel()
	var in StageInputs
	fs := pflag.NewFlagSet("stage", pflag.ContinueOnError)
	in.AddFlags(fs)
	cli := NewInputs()
	for flag, def := range map[string]string{FlagStageTimeout: cli.Timeout.String(), FlagStageRate: "0", FlagStageConcurrency: "10", FlagStageConfidence: "0.99"} {
		if f := fs.Lookup(flag); f == nil || f.DefValue != def {
			t.Errorf("stage input %s: %+v, want default %s", flag, f, def)
		}
	}
	file := filepath.Join(t.TempDir(), "reqs.jsonl")
	if err := os.WriteFile(file, []byte(grid(20)), 0o600); err != nil {
		t.Fatal(err)
	}
	slow := scoringmock.Options{Model: model(0.5, 0.5123, 0), Latency: 300 * time.Millisecond}
	gw := gateway(t, slow, slow)
	held := &summary.Result{Stage: "Blue_50", Images: summary.Images{Green: "m:1", Blue: "m:2"}, Routes: bothRoutes}
	for _, tc := range []struct {
		timeout time.Duration
		agrees  bool
	}{{100 * time.Millisecond, false}, {5 * time.Second, true}} {
		si := NewStageInputs(file)
		si.Timeout, si.Concurrency, si.MaxDisagreement, si.Confidence = tc.timeout, 20, 50, 0.9
		o, err := si.Options(config.Default(), "auto")
		if err != nil {
			t.Fatal(err)
		}
		if o.Options.Timeout != tc.timeout || o.Options.Concurrency != 20 || o.Options.Confidence != 0.9 {
			t.Fatalf("options %+v", o.Options)
		}
		got := AfterStage(t.Context(), o, held, nil, verify.Outcome{Report: &verify.Report{Gateway: gw}}, bothLive)
		if (got.Err == nil) != tc.agrees || got.Report == nil || (!tc.agrees && got.Report.Green.Invalid[InvalidTimeout] != 20) {
			t.Errorf("timeout %s: %v, report %+v", tc.timeout, got.Err, got.Report)
		}
	}
	fast := gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.5, 0.5123, 0)})
	si := NewStageInputs(file)
	si.Rate = 40
	o, err := si.Options(config.Default(), "auto")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if got := AfterStage(t.Context(), o, held, nil, verify.Outcome{Report: &verify.Report{Gateway: fast}}, bothLive); got.Report == nil || got.Report.Requests != 20 ||
		time.Since(start) < 450*time.Millisecond {
		t.Errorf("20 lines at compare-rate 40 took %s: %+v", time.Since(start), got)
	}
}

// TestStageCompareLoadInputsAreChecked: the new stage inputs are checked by the CLI's rules before
// the stage and named as the stage names them.
func TestStageCompareLoadInputsAreChecked(t *testing.T) {
	t.Parallel()
	file := writeRequests(t, "[1]\n")
	for _, tc := range []struct {
		set   func(*StageInputs)
		input string
	}{
		{func(in *StageInputs) { in.Timeout = 0 }, FlagStageTimeout},
		{func(in *StageInputs) { in.Rate = -1 }, FlagStageRate},
		{func(in *StageInputs) { in.Concurrency = 0 }, FlagStageConcurrency},
		{func(in *StageInputs) { in.Concurrency = 10001 }, FlagStageConcurrency},
		{func(in *StageInputs) { in.Confidence = 1 }, FlagStageConfidence},
	} {
		in := NewStageInputs(file)
		tc.set(in)
		_, err := in.Options(config.Default(), "auto")
		var ie *config.InputError
		if !errors.As(err, &ie) || ie.Input != tc.input {
			t.Errorf("%s: %v, want refused naming it", tc.input, err)
		}
	}
}

// TestStageCompareInterruptedFails (second #11 break-it review, D7 after a stage): a comparison after
// the stage stopped by SIGTERM (the pipeline's cancel) fails the step, never agrees.
func TestStageCompareInterruptedFails(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "reqs.jsonl")
	if err := os.WriteFile(file, []byte(grid(2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := NewStageInputs(file).Options(config.Default(), "auto")
	if err != nil {
		t.Fatal(err)
	}
	slow := scoringmock.Options{Model: model(0.5, 0.5123, 0), Latency: 20 * time.Millisecond}
	gw := gateway(t, slow, slow)
	held := &summary.Result{Stage: "Blue_50", Images: summary.Images{Green: "m:1", Blue: "m:2"}, Routes: bothRoutes}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	got := AfterStage(ctx, o, held, nil, verify.Outcome{Report: &verify.Report{Gateway: gw}}, bothLive)
	if got.Report == nil || !got.Report.Interrupted || got.Err == nil || !strings.Contains(got.Err.Error(), "interrupted") {
		t.Errorf("interrupted after the stage: %v, report %+v", got.Err, got.Report)
	}
}
