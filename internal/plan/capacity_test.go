package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

func weights(g, b int) map[config.Version]int {
	return map[config.Version]int{config.Green: g, config.Blue: b}
}
func readyCounts(g, b int64) map[config.Version]int64 {
	return map[config.Version]int64{config.Green: g, config.Blue: b}
}

// TestCapacity is the rule's table: ready ≥ ceil(new share × replicas serving now), each serving
// version's ready replicas counted at its current share.
func TestCapacity(t *testing.T) {
	for _, tc := range []struct {
		name          string
		current, next map[config.Version]int
		ready         map[config.Version]int64
		want          string // "version ready/needed serving" per shortfall
	}{
		{"green 6 at 100%, Blue_50 onto 1 blue", weights(100, 0), weights(50, 50), readyCounts(6, 1), "blue 1/3 600"},
		{"green 6 at 100%, Blue_50 onto 3 blue", weights(100, 0), weights(50, 50), readyCounts(6, 3), ""},
		{"green 6 at 100%, Blue_10 onto 1 blue", weights(100, 0), weights(90, 10), readyCounts(6, 1), ""},
		{"green 6 at 100%, Blue_20 onto 1 blue: ceil(1.2)", weights(100, 0), weights(80, 20), readyCounts(6, 1), "blue 1/2 600"},
		{"the documented flow at --replicas 1: Blue_50 to Blue_100", weights(50, 50), weights(0, 100), readyCounts(1, 1), ""},
		{"Blue_50 to Blue_100 with green 6, blue 3", weights(50, 50), weights(0, 100), readyCounts(6, 3), "blue 3/5 450"},
		{"Green_100 from blue 6 at 100% onto green 1 (the issue's HPA case)", weights(0, 100), weights(100, 0), readyCounts(1, 6), "green 1/6 600"},
		{"Green_100 from blue 6 onto green 6", weights(0, 100), weights(100, 0), readyCounts(6, 6), ""},
		{"Rollback from 50/50: green's share grows", weights(50, 50), weights(100, 0), readyCounts(1, 3), "green 1/2 200"},
		{"Rollback from 90/10: green 5 carries it", weights(90, 10), weights(100, 0), readyCounts(5, 1), ""},
		{"a shrinking share is never checked", weights(50, 50), weights(90, 10), readyCounts(9, 0), ""},
		{"nothing serves now: a first release", weights(0, 0), weights(0, 100), readyCounts(0, 1), ""},
		{"an unready serving version serves with nothing", weights(100, 0), weights(50, 50), readyCounts(0, 1), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range Capacity(tc.current, tc.next, tc.ready) {
				got = append(got, string(s.Version)+" "+itoa(s.Ready)+"/"+itoa(s.Needed)+" "+itoa(s.Serving))
			}
			if g := strings.Join(got, ", "); g != tc.want {
				t.Errorf("Capacity = %q, want %q", g, tc.want)
			}
		})
	}
}

func itoa(n int64) string { return replicasText(n * 100) }

func TestLargestShareAndReplicasText(t *testing.T) {
	for _, tc := range []struct {
		ready, serving int64
		want           int
	}{{1, 600, 16}, {3, 600, 50}, {6, 600, 100}, {7, 600, 100}, {0, 600, 0}, {1, 0, 100}} {
		if got := LargestShare(tc.ready, tc.serving); got != tc.want {
			t.Errorf("LargestShare(%d, %d) = %d, want %d", tc.ready, tc.serving, got, tc.want)
		}
	}
	for in, want := range map[int64]string{600: "6", 550: "5.5", 75: "0.75", 460: "4.6", 100: "1"} {
		if got := replicasText(in); got != want {
			t.Errorf("replicasText(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestCapacityModes: what each --capacity-check value does with the same shortfall (green 6 at
// 100%, blue 1), per stage and per autoscaling; the refusal is one sentence naming both counts and
// both fixes.
func TestCapacityModes(t *testing.T) {
	live := func(autoscaled, read bool) Live {
		g, b := ready("m:1"), ready("m:2")
		g.Available = 6
		return Live{Versions: map[config.Version]VersionState{config.Green: g, config.Blue: b},
			Routing:    routing.NewRouting(true, true, 100, 0),
			Autoscaled: map[config.Version]bool{config.Blue: autoscaled}, AutoscalersRead: read}
	}
	const refusal = "Blue_50: blue has 1 ready replica, but its new 50% share needs at least 3 (50% of the 6 replicas serving now); scale Deployment abtesting/model-blue to 3 replicas or more, or take a smaller step (Blue_16)"
	for _, tc := range []struct {
		name, stage string
		mode        config.CapacityCheck
		live        Live
		// want: "refuse", "read" (NeedsAutoscalers), "note" or "" (nothing said)
		want string
	}{
		{"enforce refuses", "Blue_50", config.CapacityEnforce, live(true, true), "refuse"},
		{"warn notes", "Blue_50", config.CapacityWarn, live(false, true), "note"},
		{"off says nothing", "Blue_50", config.CapacityOff, live(false, true), ""},
		{"auto, autoscalers unread: read them", "Blue_50", config.CapacityAuto, live(false, false), "read"},
		{"auto, not autoscaled: refuses", "Blue_50", config.CapacityAuto, live(false, true), "refuse"},
		{"auto, autoscaled: notes", "Blue_50", config.CapacityAuto, live(true, true), "note"},
		{"a Config built in code (empty) is auto", "Blue_50", "", live(false, true), "refuse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Stage, _ = config.ParseStage(tc.stage)
			cfg.CapacityCheck = tc.mode
			p, err := Make(&cfg, tc.live)
			var pe *PreconditionError
			got := ""
			switch {
			case errors.As(err, &pe) && pe.NeedsAutoscalers:
				got = "read"
			case err != nil:
				got = "refuse"
				if err.Error() != refusal {
					t.Errorf("refusal:\n got %s\nwant %s", err, refusal)
				}
			case len(p.Notes) > 0:
				got = "note"
				if !strings.HasPrefix(p.Notes[0], "capacity: blue has 1 ready replica") {
					t.Errorf("note %q", p.Notes[0])
				}
			}
			if got != tc.want {
				t.Errorf("got %q (err %v), want %q", got, err, tc.want)
			}
		})
	}
	// Rollback never refuses: green with 1 ready taking 100% back from 50/50 with blue 3 (needs 2)
	// is a note.
	cfg := config.Default()
	cfg.Stage, _ = config.ParseStage("Rollback")
	cfg.CapacityCheck = config.CapacityEnforce
	l := live(false, true)
	g := l.Versions[config.Green]
	g.Available = 1
	l.Versions[config.Green] = g
	b := l.Versions[config.Blue]
	b.Available = 3
	l.Versions[config.Blue] = b
	l.Routing = routing.NewRouting(true, true, 50, 50)
	p, err := Make(&cfg, l)
	if err != nil || len(p.Notes) == 0 || !strings.Contains(p.Notes[len(p.Notes)-1], "Rollback always returns the traffic to green") {
		t.Fatalf("Rollback under enforce with too few green replicas: err %v, plan %+v; want a note", err, p)
	}
}

// TestCapacityAutoIdleAutoscaledVersionTakingAll is G17 (break-it review of #9): under auto an
// autoscaler excuses a shortfall because it adds replicas as the traffic arrives — but not to a
// version that carries none of the traffic and is to take all of it (Green_100 after Blue_Green:
// green's autoscaler shrank idle green to its minimum). That is refused, naming the minimum to
// raise; a version that already carries a share (its autoscaler follows its load), or takes part
// of the traffic, is still a note, and warn still moves the traffic.
func TestCapacityAutoIdleAutoscaledVersionTakingAll(t *testing.T) {
	live := func(gw, bw int, green, blue int64) Live {
		g, b := ready("m:2"), ready("m:2")
		g.Available, b.Available = green, blue
		return Live{Versions: map[config.Version]VersionState{config.Green: g, config.Blue: b},
			Routing:    routing.NewRouting(true, true, gw, bw),
			Autoscaled: map[config.Version]bool{config.Green: true, config.Blue: true}, AutoscalersRead: true}
	}
	for _, tc := range []struct {
		name, stage string
		mode        config.CapacityCheck
		live        Live
		want        string // "refuse", "note"
	}{
		{"Green_100 onto green its HPA shrank to 2, blue serving with 6", "Green_100", config.CapacityAuto, live(0, 100, 2, 6), "refuse"},
		{"the same under warn moves", "Green_100", config.CapacityWarn, live(0, 100, 2, 6), "note"},
		{"Blue_100 straight from Blue_0 onto blue shrunk to 2", "Blue_100", config.CapacityAuto, live(100, 0, 6, 2), "refuse"},
		{"Blue_100 from Blue_50: blue's autoscaler follows its load", "Blue_100", config.CapacityAuto, live(50, 50, 6, 2), "note"},
		{"Blue_50 onto idle blue: part of the traffic", "Blue_50", config.CapacityAuto, live(100, 0, 6, 2), "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Stage, _ = config.ParseStage(tc.stage)
			cfg.CapacityCheck = tc.mode
			p, err := Make(&cfg, tc.live)
			switch {
			case tc.want == "refuse" && (err == nil || !strings.Contains(err.Error(), "carries none of the traffic now, so its autoscaler has shrunk it") || !strings.Contains(err.Error(), "raise that autoscaler's minimum to 6")):
				t.Errorf("err %v; want the idle-autoscaled refusal naming the minimum 6", err)
			case tc.want == "note" && (err != nil || len(p.Notes) == 0 || !strings.HasPrefix(p.Notes[len(p.Notes)-1], "capacity: ")):
				t.Errorf("err %v, plan %+v; want a capacity note", err, p)
			}
		})
	}
}
