package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/render"
)

// podLabels returns the pod template labels of version v's Deployment in the fixture's namespace.
func (f *fixture) podLabels(v config.Version) map[string]string {
	f.t.Helper()
	c := f.cfg("Blue_0", "")
	d, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Get(context.Background(), c.Objects[v].Deployment, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	l, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
	return l
}

func (f *fixture) wantTelemetry(when string, v config.Version) {
	f.t.Helper()
	l := f.podLabels(v)
	if l[render.CanonicalRevisionLabel] != string(v) || l[render.IstioVersionLabel] != string(v) {
		f.t.Errorf("%s: %s's pod labels are %v, want %s and version = %s", when, v, l, render.CanonicalRevisionLabel, v)
	}
}

// TestTelemetryLabelsThroughTheFlow: the pods of both versions carry Istio's version labels (green
// too after Blue_Green, which gives green blue's image), never in a selector. A Deployment an
// earlier mlcanary created without them is not touched by a stage that does not apply it (Blue_N),
// and gets them the next time a stage applies it — as any change of its pod template, make-before-
// break: unrouted first, rolled out, waited for, routed again — after which a re-run writes nothing.
func TestTelemetryLabelsThroughTheFlow(t *testing.T) {
	f := newFixture(t)
	f.reach([]string{"Blue_0@" + imgA, "Blue_100", "Blue_Green", "Green_100", "Blue_0@" + imgB, "Blue_50"})
	for _, v := range config.Versions {
		f.wantTelemetry("Blue_50", v)
		c := f.cfg("Blue_0", "")
		d, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Get(context.Background(), c.Objects[v].Deployment, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sel, _, _ := unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
		if len(sel) != 2 || sel[config.VersionLabel] != string(v) {
			t.Errorf("%s's selector is %v, want only app and %s", v, sel, config.VersionLabel)
		}
		// As an earlier mlcanary left it: no telemetry labels on the pods.
		patch := `[{"op":"remove","path":"/spec/template/metadata/labels/service.istio.io~1canonical-revision"},{"op":"remove","path":"/spec/template/metadata/labels/version"}]`
		if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Patch(context.Background(), c.Objects[v].Deployment, types.JSONPatchType, []byte(patch), metav1.PatchOptions{FieldManager: "earlier-mlcanary"}); err != nil {
			t.Fatal(err)
		}
		waitReady(t, f.ns, c.Objects[v].Deployment)
	}

	f.rec.reset()
	f.stage("Blue_50", imgB)
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("Blue_50 re-run on Deployments without the labels wrote %v, want nothing (it applies no Deployment)", writes)
	}

	f.rec.reset()
	f.stage("Blue_0", imgB) // the safety checker fails the test if blue is replaced while routed
	_, writes := f.rec.counts()
	if !slices.ContainsFunc(writes, func(w string) bool { return strings.HasSuffix(w, "/deployments/model-blue") }) ||
		slices.ContainsFunc(writes, func(w string) bool { return strings.HasSuffix(w, "/deployments/model-green") }) {
		t.Errorf("Blue_0 re-run wrote %v, want blue's Deployment (its labels) and not green's", writes)
	}
	f.wantTelemetry("Blue_0 re-run", config.Blue)
	f.rec.reset()
	f.stage("Blue_0", imgB)
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("second Blue_0 re-run wrote %v, want nothing", writes)
	}

	f.reach([]string{"Blue_100", "Blue_Green"})
	f.wantTelemetry("Blue_Green", config.Green)
	f.wantTelemetry("Blue_Green", config.Blue)
	f.rec.reset()
	f.stage("Blue_Green", "")
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("Blue_Green re-run wrote %v, want nothing", writes)
	}
}
