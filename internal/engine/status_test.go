package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// status reads the fixture's namespace the way `mlcanary status` does.
func (f *fixture) status() *summary.Result {
	f.t.Helper()
	res, err := f.cl.Status(context.Background(), f.cfg("Blue_0", ""))
	if err != nil {
		f.t.Fatalf("status: %v", err)
	}
	return res
}

// editVS changes the live VirtualService as `kubectl edit` would (an update as field manager
// kubectl-edit) and returns nothing; change gets the default route's destinations.
func editVS(t *testing.T, ns string, change func(defaultRoute map[string]any)) {
	t.Helper()
	vs := get(t, kube.VirtualServices, ns, "mlmodel-virtualservice")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for _, r := range routes {
		if m := r.(map[string]any); m["match"] == nil {
			change(m)
		}
	}
	if err := unstructured.SetNestedSlice(vs.Object, routes, "spec", "http"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(ns).Update(context.Background(), vs, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatalf("kubectl edit: %v", err)
	}
}

// weighted returns a default route's destinations sending green and blue their weights.
func weighted(green, blue int64) []any {
	var out []any
	for _, d := range []struct {
		svc string
		w   int64
	}{{"model-svc-green", green}, {"model-svc-blue", blue}} {
		if d.w > 0 {
			out = append(out, map[string]any{"destination": map[string]any{"host": d.svc, "port": map[string]any{"number": int64(5001)}}, "weight": d.w})
		}
	}
	return out
}

// TestStatusDerivesEveryState (issue #8, kind 10): in every state of the transition table, status
// derives the stage from the live routes and Deployments, and it agrees with the record.
func TestStatusDerivesEveryState(t *testing.T) {
	want := map[string]string{"empty": "none", "first-Blue_0": "Blue_0", "first-Blue_100": "Blue_100", "green": "Green_100",
		"Blue_0": "Blue_0", "Blue_50": "Blue_50", "Blue_100": "Blue_100", "Blue_Green": "Blue_Green", "Shadow_10": "Shadow_10"}
	for _, s := range states {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach(s.path)
			res := f.status()
			if res.Stage != want[s.name] || res.Drift != "" {
				t.Errorf("status: stage %q drift %q, want %q and no drift", res.Stage, res.Drift, want[s.name])
			}
		})
	}
}

// TestStatusSaysDrift (issue #8, kind 10): routes changed by hand are reported as they are, with
// the record they drifted from, who changed them and when; a re-run of the recorded stage puts
// them back, after which status agrees and a further re-run writes nothing.
func TestStatusSaysDrift(t *testing.T) {
	cases := []struct {
		name        string
		edit        func(m map[string]any)
		stage, want string
	}{
		{"kubectl revert to green 100", func(m map[string]any) { m["route"] = weighted(100, 0) }, "Blue_0",
			"drifted from the recorded Blue_50: the live state is Blue_0: green 100%, blue 0%; header routes: blue, green; deployed: green, blue"},
		{"hand edit to 30/70", func(m map[string]any) { m["route"] = weighted(30, 70) }, "Blue_70",
			"drifted from the recorded Blue_50: the live state is Blue_70: green 30%, blue 70%"},
		{"everything on blue", func(m map[string]any) { m["route"] = weighted(0, 100) }, "Blue_100",
			"drifted from the recorded Blue_50: the live state is Blue_100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach(states[5].path) // Blue_50
			before := time.Now().UTC().Truncate(time.Second)
			editVS(t, f.ns, tc.edit)
			res := f.status()
			if res.Stage != tc.stage || res.RecordedStage != "Blue_50" || !strings.HasPrefix(res.Drift, tc.want) {
				t.Fatalf("status after %s: stage %q, recorded %q, drift %q; want %q and %q", tc.name, res.Stage, res.RecordedStage, res.Drift, tc.stage, tc.want)
			}
			if res.ChangedBy != "kubectl-edit (not mlcanary)" || res.ChangedAt.Before(before) {
				t.Errorf("last change: %q at %s, want kubectl-edit at or after %s", res.ChangedBy, res.ChangedAt, before)
			}
			for format, want := range map[string]string{"text": tc.want, "markdown": "**Warning:** drifted from the recorded Blue_50", "json": `"drift": "drifted from the recorded Blue_50`} {
				if out, _ := summary.Render(res, format); !strings.Contains(out, want) {
					t.Errorf("%s output lacks %q:\n%s", format, want, out)
				}
			}
			f.stage("Blue_50", "")
			if res := f.status(); res.Stage != "Blue_50" || res.Drift != "" || res.ChangedBy != "local" {
				t.Errorf("after re-running Blue_50: %+v", res)
			}
			f.rec.reset()
			f.stage("Blue_50", "")
			if _, writes := f.rec.counts(); len(writes) != 0 {
				t.Errorf("re-run wrote %v", writes)
			}
		})
	}
}

// TestStatusShowsShadow: after Shadow_10, status names it and shows the mirror in every output; a
// mirror someone edited by hand is drift from the record (its new share, or Blue_0 without it), and
// re-running Shadow_10 puts it back.
func TestStatusShowsShadow(t *testing.T) {
	f := newFixture(t)
	f.reach(states[len(states)-1].path) // Shadow_10
	res := f.status()
	if res.Stage != "Shadow_10" || res.Mirror != 10 || res.Drift != "" {
		t.Fatalf("status: stage %q mirror %d drift %q, want Shadow_10, 10, none", res.Stage, res.Mirror, res.Drift)
	}
	for format, want := range map[string]string{"text": "mirror: blue also receives a copy of 10%", "markdown": "**Mirror:** blue also receives a copy of 10%", "json": `"mirror": 10`} {
		if out, _ := summary.Render(res, format); !strings.Contains(out, want) {
			t.Errorf("%s output lacks %q:\n%s", format, want, out)
		}
	}
	for _, tc := range []struct {
		edit        func(m map[string]any)
		stage, want string
	}{
		{func(m map[string]any) { m["mirrorPercentage"] = map[string]any{"value": int64(25)} }, "Shadow_25",
			"drifted from the recorded Shadow_10: the live state is Shadow_25: green 100%, blue 0%, mirroring 25% to blue"},
		{func(m map[string]any) { delete(m, "mirror"); delete(m, "mirrorPercentage") }, "Blue_0",
			"drifted from the recorded Shadow_10: the live state is Blue_0: green 100%, blue 0%; header routes"},
	} {
		editVS(t, f.ns, tc.edit)
		if res := f.status(); res.Stage != tc.stage || !strings.HasPrefix(res.Drift, tc.want) {
			t.Errorf("status after a hand edit: stage %q drift %q; want %q, %q", res.Stage, res.Drift, tc.stage, tc.want)
		}
		f.stage("Shadow_10", "")
		if res := f.status(); res.Stage != "Shadow_10" || res.Drift != "" || res.Mirror != 10 {
			t.Errorf("after re-running Shadow_10: stage %q drift %q mirror %d", res.Stage, res.Drift, res.Mirror)
		}
	}
}

// TestStatusSaysImageDrift: a Deployment's image changed by hand (kubectl set image) is drift too.
func TestStatusSaysImageDrift(t *testing.T) {
	f := newFixture(t)
	f.reach(states[5].path) // Blue_50
	d := get(t, kube.Deployments, f.ns, "model-blue")
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	cs[0].(map[string]any)["image"] = imgC
	_ = unstructured.SetNestedSlice(d.Object, cs, "spec", "template", "spec", "containers")
	if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Update(context.Background(), d, metav1.UpdateOptions{FieldManager: "kubectl-set"}); err != nil {
		t.Fatal(err)
	}
	res := f.status()
	if want := "drifted from the recorded Blue_50: the Deployments run green=" + imgA + ",blue=" + imgC + ", the record says green=" + imgA + ",blue=" + imgB; res.Drift != want {
		t.Errorf("drift %q, want %q", res.Drift, want)
	}
}

// TestFailedStageKeepsTheLastStageThatHeld (issue #8, kind 10): a stage records its name only
// with its final routing. Blue_Green unroutes green before replacing it; when green's rollout
// then times out, the record still says Blue_100 and names Blue_Green as unfinished, and status
// says so without calling it drift. Blue_0 replacing a routed blue likewise. The stage shown (by
// status and in the failed stage's outputs) is the live one, since the recorded one no longer
// holds (its routes are gone); the note names the recorded and the unfinished stage.
func TestFailedStageKeepsTheLastStageThatHeld(t *testing.T) {
	for _, tc := range []struct {
		from, stage, image, held, recorded, live string
	}{
		{"Blue_100", "Blue_Green", "", "model-green", "Blue_100", "unknown (green 0%, blue 100%; header routes: blue; deployed: green, blue)"},
		{"Blue_50", "Blue_0", imgC, "model-blue", "Blue_50", "green only, blue unrouted"},
		{"Blue_Green", "Blue_0", imgC, "model-blue", "Blue_Green", "green only, blue unrouted"},
	} {
		t.Run(tc.from+" then "+tc.stage, func(t *testing.T) {
			f := newFixture(t)
			for _, s := range states {
				if s.name == tc.from {
					f.reach(s.path)
				}
			}
			ctrl.Hold(f.ns, tc.held)
			defer ctrl.Release(f.ns, tc.held)
			c := f.cfg(tc.stage, tc.image)
			c.Timeout = 700 * time.Millisecond
			failed, err := f.run(c)
			if err == nil || !strings.Contains(err.Error(), tc.stage+" did not complete") {
				t.Fatalf("%s with %s held: %v", tc.stage, tc.held, err)
			}
			// What the front ends output after the failure is what holds, not the failed stage.
			if routing, images := f.live(); failed == nil || failed.Stage != tc.live || failed.RecordedStage != tc.recorded || failed.Weights.Green != routing.Weights["green"] ||
				failed.Weights.Blue != routing.Weights["blue"] || failed.Images.Blue != images["blue"] || len(failed.Changes) == 0 {
				t.Errorf("result of the failed %s: %+v", tc.stage, failed)
			}
			ann := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").GetAnnotations()
			if ann[engine.StageAnnotation] != tc.recorded || ann[engine.InProgressAnnotation] != tc.stage {
				t.Errorf("record after the failed %s: stage %q, in progress %q; want %q and %q", tc.stage,
					ann[engine.StageAnnotation], ann[engine.InProgressAnnotation], tc.recorded, tc.stage)
			}
			res := f.status()
			if note := tc.stage + " started changing traffic"; res.Stage != tc.live || res.RecordedStage != tc.recorded || res.Drift != "" || len(res.Notes) == 0 ||
				!strings.Contains(res.Notes[len(res.Notes)-1], note) || !strings.Contains(res.Notes[len(res.Notes)-1], "the last stage that held was "+tc.recorded) {
				t.Errorf("status after the failed %s: stage %q, drift %q, notes %q", tc.stage, res.Stage, res.Drift, res.Notes)
			}
			ctrl.Release(f.ns, tc.held)
			f.stage(tc.stage, tc.image)
			ann = get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").GetAnnotations()
			if ann[engine.StageAnnotation] != tc.stage || ann[engine.InProgressAnnotation] != "" {
				t.Errorf("record after the re-run: %v", ann)
			}
			f.rec.reset()
			f.stage(tc.stage, tc.image)
			if _, writes := f.rec.counts(); len(writes) != 0 {
				t.Errorf("re-run wrote %v", writes)
			}
		})
	}
}
