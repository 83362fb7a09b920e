package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// TestPausedDeploymentsAreNotRolled: a stage that needs a rollout of a paused Deployment (a new
// image, a changed spec, an unfinished rollout) is refused with `kubectl rollout resume`, not
// waitable; one that routes to a paused, ready, current Deployment without writing it is planned.
func TestPausedDeploymentsAreNotRolled(t *testing.T) {
	paused := func(v VersionState) VersionState { v.Paused = true; return v }
	unready := func(v VersionState) VersionState { v.Ready, v.Reason, v.Wanted = false, "0 of 1 updated", 1; return v }
	stale := func(v VersionState) VersionState { v.Current = false; return v }
	both := func(g, b VersionState) map[config.Version]VersionState {
		return map[config.Version]VersionState{config.Green: g, config.Blue: b}
	}
	cases := []struct {
		name, stage, image string
		live               Live
		refused            string // the Deployment named, "" when planned
	}{
		{"Blue_Green onto a paused green", "Blue_Green", "", Live{Versions: both(paused(ready("m:1")), ready("m:2")), Routing: routing.NewRouting(true, true, 0, 100)}, "model-green"},
		{"Blue_0 with a new image onto a paused blue", "Blue_0", "m:3", Live{Versions: both(ready("m:1"), paused(ready("m:2"))), Routing: routing.NewRouting(true, true, 100, 0)}, "model-blue"},
		{"Blue_0 with a changed spec of a paused blue", "Blue_0", "m:2", Live{Versions: both(ready("m:1"), paused(stale(ready("m:2")))), Routing: routing.NewRouting(true, true, 100, 0)}, "model-blue"},
		{"Blue_50 to a paused blue whose rollout is unfinished", "Blue_50", "", Live{Versions: both(ready("m:1"), paused(unready(ready("m:2")))), Routing: routing.NewRouting(true, true, 100, 0)}, "model-blue"},
		{"Rollback to a paused unfinished green", "Rollback", "", Live{Versions: both(paused(unready(ready("m:1"))), ready("m:2")), Routing: routing.NewRouting(true, true, 0, 100)}, "model-green"},
		{"Blue_50 to a paused ready blue", "Blue_50", "", Live{Versions: both(paused(ready("m:1")), paused(ready("m:2"))), Routing: routing.NewRouting(true, true, 100, 0)}, ""},
		{"Blue_0 re-run on a paused current blue", "Blue_0", "m:2", Live{Versions: both(ready("m:1"), paused(ready("m:2"))), Routing: routing.NewRouting(true, true, 100, 0)}, ""},
		{"Rollback to a paused ready green", "Rollback", "", Live{Versions: both(paused(ready("m:1")), ready("m:2")), Routing: routing.NewRouting(true, true, 50, 50)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Namespace = "ns"
			c.Stage, _ = config.ParseStage(tc.stage)
			c.Image = tc.image
			_, err := Make(&c, tc.live)
			var pe *PreconditionError
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused == "":
			case !errors.As(err, &pe) || pe.Unready != "" ||
				!strings.Contains(pe.Msg, "Deployment ns/"+tc.refused+") is paused (spec.paused: true)") ||
				!strings.Contains(pe.Msg, "kubectl rollout resume deployment/"+tc.refused+" -n ns"):
				t.Errorf("want a refusal naming %s paused with kubectl rollout resume, not waitable; got %v", tc.refused, err)
			}
		})
	}
}
