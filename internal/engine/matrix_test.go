package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// states are reached by running these stages (stage@image) on an empty namespace.
var states = []struct {
	name string
	path []string
}{
	{"empty", nil},
	{"first-Blue_0", []string{"Blue_0@" + imgA}},
	{"first-Blue_100", []string{"Blue_0@" + imgA, "Blue_100"}},
	{"green", []string{"Blue_0@" + imgA, "Blue_100", "Blue_Green", "Green_100"}},
	{"Blue_0", []string{"Blue_0@" + imgA, "Blue_100", "Blue_Green", "Green_100", "Blue_0@" + imgB}},
	{"Blue_50", []string{"Blue_0@" + imgA, "Blue_100", "Blue_Green", "Green_100", "Blue_0@" + imgB, "Blue_50"}},
	{"Blue_100", []string{"Blue_0@" + imgA, "Blue_100", "Blue_Green", "Green_100", "Blue_0@" + imgB, "Blue_100"}},
	{"Blue_Green", []string{"Blue_0@" + imgA, "Blue_100", "Blue_Green", "Green_100", "Blue_0@" + imgB, "Blue_100", "Blue_Green"}},
	{"Shadow_10", []string{"Blue_0@" + imgA, "Blue_100", "Blue_Green", "Green_100", "Blue_0@" + imgB, "Shadow_10"}},
}

// allowed is the transition table (README "Transitions"): which stage may run in which state.
// Blue_0 runs with a new image (imgC); Blue_0=same re-runs it with the image blue already has
// (what "rerun all stages" of the same pipeline run does).
var allowed = map[string]map[string]bool{
	"Blue_0":      {"empty": true, "first-Blue_0": true, "first-Blue_100": false, "green": true, "Blue_0": true, "Blue_50": true, "Blue_100": true, "Blue_Green": true, "Shadow_10": true},
	"Blue_0=same": {"empty": true, "first-Blue_0": true, "first-Blue_100": false, "green": true, "Blue_0": true, "Blue_50": true, "Blue_100": true, "Blue_Green": true, "Shadow_10": true},
	"Shadow_20":   {"empty": false, "first-Blue_0": false, "first-Blue_100": false, "green": false, "Blue_0": true, "Blue_50": false, "Blue_100": false, "Blue_Green": false, "Shadow_10": true},
	"Blue_30":     {"empty": false, "first-Blue_0": true, "first-Blue_100": true, "green": false, "Blue_0": true, "Blue_50": true, "Blue_100": true, "Blue_Green": true, "Shadow_10": true},
	"Blue_100":    {"empty": false, "first-Blue_0": true, "first-Blue_100": true, "green": false, "Blue_0": true, "Blue_50": true, "Blue_100": true, "Blue_Green": true, "Shadow_10": true},
	"Blue_Green":  {"empty": false, "first-Blue_0": false, "first-Blue_100": true, "green": false, "Blue_0": false, "Blue_50": false, "Blue_100": true, "Blue_Green": true, "Shadow_10": false},
	"Green_100":   {"empty": false, "first-Blue_0": false, "first-Blue_100": false, "green": true, "Blue_0": false, "Blue_50": false, "Blue_100": false, "Blue_Green": true, "Shadow_10": false},
	"Rollback":    {"empty": false, "first-Blue_0": false, "first-Blue_100": false, "green": true, "Blue_0": true, "Blue_50": true, "Blue_100": true, "Blue_Green": true, "Shadow_10": true},
}

func (f *fixture) reach(path []string) {
	f.t.Helper()
	for _, p := range path {
		stage, image := cut(p)
		f.stage(stage, image)
	}
}

func cut(p string) (stage, image string) {
	for i := range p {
		if p[i] == '@' {
			return p[:i], p[i+1:]
		}
	}
	return p, ""
}

// cellStage is the stage a transition-table cell runs and its --image: the row's stage, except
// that "Blue_0" deploys a new release (imgC) and "Blue_0=same" re-runs Blue_0 with the image blue
// (or, before any blue, green) already runs. It returns new values instead of changing the row
// key, which later cells read.
func cellStage(row, state string) (run, image string) {
	switch row {
	case "Blue_0":
		return row, imgC
	case "Blue_0=same":
		if strings.HasPrefix(state, "Blue_") || strings.HasPrefix(state, "Shadow_") {
			return "Blue_0", imgB
		}
		return "Blue_0", imgA
	}
	return row, ""
}

// TestEveryStageFromEveryState runs each stage from each state: an allowed stage establishes its
// split without ever routing to a missing or unready version and holds on a re-run with zero
// writes; a refused stage names its precondition and writes nothing. The 72 cells run in
// parallel: each works in its own namespace, with its own client and recorder.
func TestEveryStageFromEveryState(t *testing.T) {
	for stage, byState := range allowed {
		for _, st := range states {
			t.Run(fmt.Sprintf("%s_from_%s", stage, st.name), func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				f.reach(st.path)
				run, image := cellStage(stage, st.name)
				f.rec.reset()
				res, err := f.try(run, image)
				_, writes := f.rec.counts()
				if !byState[st.name] {
					var pe *plan.PreconditionError
					if !errors.As(err, &pe) {
						t.Fatalf("%s from %s: got %v, want a precondition error", stage, st.name, err)
					}
					if len(writes) != 0 {
						t.Errorf("refused %s wrote %v", stage, writes)
					}
					t.Logf("refused: %v", err)
					return
				}
				if err != nil {
					t.Fatalf("%s from %s: %v", stage, st.name, err)
				}
				assertSplit(t, f, run, res.Weights.Green, res.Weights.Blue)
				f.rec.reset()
				if _, err := f.try(run, image); err != nil {
					t.Fatalf("re-run of %s: %v", stage, err)
				}
				if _, writes := f.rec.counts(); len(writes) != 0 {
					t.Errorf("re-run of %s wrote %v, want nothing", stage, writes)
				}
			})
		}
	}
}

// assertSplit checks the live weights are the stage's, or blue-only when there is no green yet.
func assertSplit(t *testing.T, f *fixture, stage string, green, blue int) {
	t.Helper()
	s, _ := config.ParseStage(stage)
	wg, wb := s.Weights()
	routing, images := f.live()
	switch {
	case images[config.Green] == "" && s.Kind == config.KindBlue0:
		wg, wb = 0, 0 // first release: header route only
	case images[config.Green] == "":
		wg, wb = 0, 100 // first release: blue takes green's share
	}
	if routing.Weights[config.Green] != wg || routing.Weights[config.Blue] != wb || green != wg || blue != wb {
		t.Errorf("%s: live %v, result green=%d blue=%d, want green=%d blue=%d", stage, routing.Weights, green, blue, wg, wb)
	}
	// Only a Shadow stage mirrors; every other stage leaves no mirror (a Blue_N after a Shadow_N
	// removes it in the write that gives blue its weight, Green_100 and Rollback before blue goes).
	if routing.Mirror != s.Mirror {
		t.Errorf("%s: live mirror to blue %d%%, want %d%%", stage, routing.Mirror, s.Mirror)
	}
	if s.Kind == config.KindGreen100 || s.Kind == config.KindRollback {
		if images[config.Blue] != "" {
			t.Errorf("%s left blue running %s", stage, images[config.Blue])
		}
	}
}
