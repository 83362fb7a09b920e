package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// TestNothingDyingIsRoutedOrWritten: a version being deleted (VersionState.Deleting, counted as
// absent) is never routed to, applied or waited for, in every stage; the VirtualService or
// Gateway being deleted (Live.Deleting) refuses every stage that writes routes. Removing a dying
// version is allowed.
func TestNothingDyingIsRoutedOrWritten(t *testing.T) {
	dying := func(clause string) VersionState { return VersionState{Deleting: clause} }
	const dg, db = "Deployment ns/model-green is being deleted (since x, waiting for finalizers f)", "Deployment ns/model-blue is being deleted (since x, waiting for finalizers f)"
	both := func(g, b VersionState) map[config.Version]VersionState {
		return map[config.Version]VersionState{config.Green: g, config.Blue: b}
	}
	cases := []struct {
		name, stage string
		live        Live
		refused     string // "" means the plan is made
	}{
		{"Rollback to a dying green", "Rollback", Live{Versions: both(dying(dg), ready("m:2")), Routing: routing.NewRouting(true, true, 0, 100)}, dg},
		{"Green_100 to a dying green", "Green_100", Live{Versions: both(dying(dg), ready("m:2")), Routing: routing.NewRouting(true, true, 0, 100)}, dg},
		{"Blue_50 to a dying blue", "Blue_50", Live{Versions: both(ready("m:1"), dying(db)), Routing: routing.NewRouting(true, true, 100, 0)}, db},
		{"Blue_100 with a dying green", "Blue_100", Live{Versions: both(dying(dg), ready("m:2")), Routing: routing.NewRouting(true, true, 50, 50)}, dg},
		{"Blue_0 with a dying green", "Blue_0", Live{Versions: both(dying(dg), ready("m:2")), Routing: routing.NewRouting(true, true, 100, 0)}, dg},
		{"Blue_0 recreating a dying blue", "Blue_0", Live{Versions: both(ready("m:1"), dying(db)), Routing: routing.NewRouting(true, true, 100, 0)}, db},
		{"Blue_Green onto a dying green", "Blue_Green", Live{Versions: both(dying(dg), ready("m:2")), Routing: routing.NewRouting(true, true, 0, 100)}, dg},
		{"Blue_50 onto a dying VirtualService", "Blue_50", Live{Versions: both(ready("m:1"), ready("m:2")), Routing: routing.NewRouting(true, true, 100, 0),
			Deleting: []string{"VirtualService ns/vs is being deleted (since x)"}}, "VirtualService ns/vs is being deleted"},
		{"Rollback removing a dying blue", "Rollback", Live{Versions: both(ready("m:1"), dying(db)), Routing: routing.NewRouting(true, true, 50, 50)}, ""},
		{"Green_100 removing a dying blue", "Green_100", Live{Versions: both(ready("m:2"), dying(db)), Routing: routing.NewRouting(true, false, 100, 0)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Stage, _ = config.ParseStage(tc.stage)
			c.Image = "m:2"
			if tc.stage == "Rollback" || tc.stage == "Green_100" {
				c.Image = ""
			}
			p, err := Make(&c, tc.live)
			var pe *PreconditionError
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused == "":
				for _, s := range p.Steps {
					if (s.Action == ApplyRoutes && s.Routing.References(config.Blue)) || (s.Version == config.Blue && s.Action != DeleteDeployment && s.Action != DeleteService) {
						t.Errorf("step %+v uses the dying blue", s)
					}
				}
			case !errors.As(err, &pe) || !strings.Contains(pe.Msg, tc.refused) || pe.Unready != "":
				t.Errorf("want a refusal naming %q, not waitable; got %v", tc.refused, err)
			}
		})
	}
}
