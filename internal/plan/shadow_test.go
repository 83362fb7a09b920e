package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// shadow10 is the routing Shadow_10 leaves.
func shadow10() routing.Routing {
	r := routing.NewRouting(true, true, 100, 0)
	r.Mirror = 10
	return r
}

// mirrors lists the mirror share of each routing step, in order.
func mirrors(p *Plan) []int {
	var out []int
	for _, s := range p.Steps {
		if s.Action == ApplyRoutes {
			out = append(out, s.Routing.Mirror)
		}
	}
	return out
}

// TestShadowPlans: Shadow_N keeps green's 100% and mirrors N% to blue, from Blue_0's state or
// another Shadow; every stage after it drops the mirror in its first routing that no longer
// wants it — Blue_N in the write that gives blue its weight, Blue_0 with a new image before blue's
// pods are replaced, Green_100 and Rollback before blue is deleted.
func TestShadowPlans(t *testing.T) {
	both := func(g, b string) map[config.Version]VersionState {
		return map[config.Version]VersionState{config.Green: ready(g), config.Blue: ready(b)}
	}
	cases := []struct {
		name, stage, image string
		live               Live
		steps              string
		mirrors            []int
	}{
		{"Shadow_10 from Blue_0", "Shadow_10", "", Live{Versions: both("m:1", "m:2"), Routing: routing.NewRouting(true, true, 100, 0)},
			"apply:green apply:blue gateway route:g100/b0[bg]", []int{10}},
		{"Shadow_100 from Shadow_10", "Shadow_100", "m:2", Live{Versions: both("m:1", "m:2"), Routing: shadow10()},
			"apply:green apply:blue gateway route:g100/b0[bg]", []int{100}},
		{"Blue_50 from Shadow_10: one write", "Blue_50", "", Live{Versions: both("m:1", "m:2"), Routing: shadow10()},
			"apply:green apply:blue gateway route:g50/b50[bg]", []int{0}},
		{"Blue_0 new image from Shadow_10: unrouted with its mirror first", "Blue_0", "m:3", Live{Versions: both("m:1", "m:2"), Routing: shadow10()},
			"apply:blue route:g100/b0[g] deploy:blue@m:3 wait:blue apply:green gateway route:g100/b0[bg]", []int{0, 0}},
		{"Blue_0 same image from Shadow_10 removes the mirror", "Blue_0", "m:2", Live{Versions: both("m:1", "m:2"), Routing: shadow10()},
			"apply:blue deploy:blue@m:2 wait:blue apply:green gateway route:g100/b0[bg]", []int{0}},
		{"Rollback from Shadow_10: mirror gone before blue", "Rollback", "", Live{Versions: both("m:1", "m:2"), Routing: shadow10()},
			"apply:green gateway route:g100/b0[g] delete:blue delete:blue", []int{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Stage, _ = config.ParseStage(tc.stage)
			c.Image = tc.image
			p, err := Make(&c, tc.live)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(p.Steps); got != tc.steps {
				t.Errorf("steps\n got %s\nwant %s", got, tc.steps)
			}
			if got := mirrors(p); !slices.Equal(got, tc.mirrors) {
				t.Errorf("mirror of each routing %v, want %v", got, tc.mirrors)
			}
			if warned := slices.Contains(p.Warnings, MirrorWarning); warned != (c.Stage.Kind == config.KindShadow) {
				t.Errorf("warnings %q: the side-effect warning belongs to Shadow stages only", p.Warnings)
			}
		})
	}
}

// TestShadowRefusals: Shadow_N needs a ready blue with no default traffic and a green whose
// requests it copies; each refusal names what does not hold and the stage that establishes it.
func TestShadowRefusals(t *testing.T) {
	notReady := ready("m:2")
	notReady.Ready, notReady.Reason = false, "1 of 2 updated replicas are available"
	cases := []struct {
		name  string
		live  Live
		image string
		want  string
	}{
		{"no blue", Live{Versions: map[config.Version]VersionState{config.Green: ready("m:1")}, Routing: routing.NewRouting(true, false, 100, 0)}, "",
			"blue (Deployment abtesting/model-blue) must exist and be ready, but it does not exist; Blue_0 deploys it"},
		{"blue not ready", Live{Versions: map[config.Version]VersionState{config.Green: ready("m:1"), config.Blue: notReady}, Routing: routing.NewRouting(true, true, 100, 0)}, "",
			"must be ready, but 1 of 2 updated replicas are available"},
		{"first release: no green", Live{Versions: map[config.Version]VersionState{config.Blue: ready("m:2")}, Routing: routing.NewRouting(false, true, 0, 0)}, "",
			"there is no green yet (a first release)"},
		{"blue has 50%", Live{Versions: map[config.Version]VersionState{config.Green: ready("m:1"), config.Blue: ready("m:2")}, Routing: routing.NewRouting(true, true, 50, 50)}, "",
			"the default route sends green 50%, blue 50%; a Shadow stage comes between Blue_0 and Blue_N, so run Blue_0"},
		{"blue runs another image", Live{Versions: map[config.Version]VersionState{config.Green: ready("m:1"), config.Blue: ready("m:2")}, Routing: routing.NewRouting(true, true, 100, 0)}, "m:9",
			"blue runs m:2, not the requested m:9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Stage, _ = config.ParseStage("Shadow_10")
			c.Image = tc.image
			_, err := Make(&c, tc.live)
			var pe *PreconditionError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "Shadow_10: ") {
				t.Errorf("got %v, want a precondition error containing %q", err, tc.want)
			}
		})
	}
}
