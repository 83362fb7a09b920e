package engine_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// TestCapacityCheckBeforeATrafficShift: green scaled to 6 serves all traffic, blue runs 1 replica.
// Blue_50 needs 3 ready on blue: --capacity-check enforce (and auto, blue not autoscaled) refuses
// it before any write with one sentence naming both counts and both fixes, traffic unchanged;
// warn and off move the traffic (warn says so); auto with an HPA on blue warns. Blue_50 with
// enough capacity reads no autoscalers (the list is made only for a shortfall under auto).
func TestCapacityCheckBeforeATrafficShift(t *testing.T) {
	const refusal = "Blue_50: blue has 1 ready replica, but its new 50% share needs at least 3 (50% of the 6 replicas serving now); scale Deployment %s/model-blue to 3 replicas or more, or take a smaller step (Blue_16)"
	for _, tc := range []struct {
		name  string
		mode  config.CapacityCheck
		hpa   bool
		moves bool
		note  bool
	}{
		{"enforce refuses", config.CapacityEnforce, false, false, false},
		{"auto without an autoscaler refuses", config.CapacityAuto, false, false, false},
		{"auto with an HPA on blue warns", config.CapacityAuto, true, true, true},
		{"enforce with an HPA on blue refuses", config.CapacityEnforce, true, false, false},
		{"warn moves and says so", config.CapacityWarn, false, true, true},
		{"off moves silently", config.CapacityOff, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.reach(states[4].path) // Blue_0: green and blue 1 replica each, green 100%
			scaleTo(t, f.ns, "model-green", "kubectl-scale", 6)
			if tc.hpa {
				hpaFor(t, f.ns, "model-blue")
			}
			f.rec.reset()
			c := f.cfg("Blue_50", "")
			c.CapacityCheck = tc.mode
			res, err := f.run(c)
			r, _ := f.live()
			_, writes := f.rec.counts()
			if !tc.moves {
				var pe *plan.PreconditionError
				if !errors.As(err, &pe) || err.Error() != strings.ReplaceAll(refusal, "%s", f.ns) || app.ExitCode(err) != app.ExitFailed {
					t.Fatalf("Blue_50 --capacity-check %s: err %v\nwant %s", tc.mode, err, strings.ReplaceAll(refusal, "%s", f.ns))
				}
				if len(writes) != 0 || r.Weights[config.Blue] != 0 {
					t.Fatalf("refused Blue_50 wrote %v; blue's weight %d", writes, r.Weights[config.Blue])
				}
				return
			}
			if err != nil || r.Weights[config.Blue] != 50 {
				t.Fatalf("Blue_50 --capacity-check %s: err %v, blue's weight %d; want 50", tc.mode, err, r.Weights[config.Blue])
			}
			noted := strings.Contains(strings.Join(res.Notes, "\n"), "capacity: blue has 1 ready replica, but its new 50% share needs at least 3")
			if noted != tc.note {
				t.Fatalf("notes %q: capacity warning %v, want %v", res.Notes, noted, tc.note)
			}
		})
	}
	t.Run("enough capacity reads no autoscalers", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.reach(states[4].path)
		var autoscalerReads atomic.Int32
		f.rec.answer = func(req *http.Request) *http.Response {
			if strings.Contains(req.URL.Path, "horizontalpodautoscalers") || strings.Contains(req.URL.Path, "scaledobjects") {
				autoscalerReads.Add(1)
			}
			return nil
		}
		f.stage("Blue_50", "")
		if n := autoscalerReads.Load(); n != 0 {
			t.Fatalf("Blue_50 with enough capacity made %d requests for autoscalers; want none", n)
		}
	})
}
