package engine_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestStatusTellsBlueGreenByTemplateNotOnlyImage (issue #9): status derives Blue_Green only when
// green runs blue's image AND blue's pod template (the hash Blue_Green copies). A release that
// changes only the template (same image, another --pod-template) at blue 100% is Blue_100, where
// status used to derive Blue_Green because the images matched; after Blue_Green it is Blue_Green;
// a release of a new image with the same template at blue 100% stays Blue_100. Each state is read
// twice: with mlcanary's record on the VirtualService, and with the record removed (as by someone
// else's apply), when status derives the stage from the Deployments alone.
func TestStatusTellsBlueGreenByTemplateNotOnlyImage(t *testing.T) {
	f := newFixture(t)
	for _, st := range []string{"Blue_0", "Blue_100", "Blue_Green", "Green_100"} {
		if err := f.runWith(st, imgA, "azureml.yaml"); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	steps := []struct{ stage, image, template, want string }{
		{"Blue_0", imgA, "gpu.yaml", "Blue_0"}, // the same image, another template: a release
		{"Blue_100", imgA, "gpu.yaml", "Blue_100"},
		{"Blue_Green", "", "", "Blue_Green"},
		{"Green_100", "", "", "Green_100"},
		{"Blue_0", imgB, "gpu.yaml", "Blue_0"}, // a new image, the same template
		{"Blue_100", imgB, "gpu.yaml", "Blue_100"},
		{"Blue_Green", "", "", "Blue_Green"},
	}
	for _, s := range steps {
		if err := f.runWith(s.stage, s.image, s.template); err != nil {
			t.Fatalf("%s: %v", s.stage, err)
		}
		if st := f.status(); st.Stage != s.want || st.Drift != "" {
			t.Errorf("after %s (%s, %s) status says %q (drift %q), want %q", s.stage, s.image, s.template, st.Stage, st.Drift, s.want)
		}
		derived := map[string]string{"Blue_0": "Blue_0", "Blue_100": "Blue_100", "Blue_Green": "Blue_Green", "Green_100": "green only, blue unrouted"}[s.want]
		if s.want == "Green_100" {
			derived = "green only"
		}
		dropRecord(t, f.ns)
		if st := f.status(); st.Stage != derived {
			t.Errorf("after %s (%s, %s) without the record status derives %q, want %q", s.stage, s.image, s.template, st.Stage, derived)
		}
	}
}

// dropRecord removes mlcanary's stage record from the VirtualService, as another tool's edit may.
func dropRecord(t *testing.T, ns string) {
	t.Helper()
	patch := []byte(`{"metadata":{"annotations":{"` + engine.StageAnnotation + `":null}}}`)
	if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(ns).Patch(context.Background(), "mlmodel-virtualservice", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
}

// TestAdoptedGreenTakesATemplatedRelease (issue #9): a green someone else installed keeps its own pod
// spec, so Blue_Green sets only its image, and a release given --pod-template at every stage (as a
// pipeline passes the same inputs to each) goes through to Green_100: Green_100 used to refuse it
// forever ("green runs no pod template of mlcanary's"), though Blue_Green cannot put a template on
// an adopted green. Status reads Blue_Green after Blue_Green, and Green_100 says in a note that the
// template is not applied to green.
func TestAdoptedGreenTakesATemplatedRelease(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	for _, s := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_100", imgB}, {"Blue_Green", imgB}, {"Green_100", imgB}} {
		c := f.cfg(s.stage, s.image)
		c.Template = f.template(&c, "azureml.yaml")
		res, err := f.run(c)
		if err != nil {
			t.Fatalf("%s: %v", s.stage, err)
		}
		if s.stage == "Blue_Green" {
			if st := f.status(); st.Stage != "Blue_Green" {
				t.Errorf("status after Blue_Green onto an adopted green: %q", st.Stage)
			}
		}
		if s.stage == "Green_100" && !strings.Contains(strings.Join(res.Notes, "\n"), "green (Deployment "+f.ns+"/model-green) was not created by mlcanary and keeps its own pod spec") {
			t.Errorf("Green_100 notes %q", res.Notes)
		}
	}
	if st, err := f.cl.Status(context.Background(), f.cfg("Blue_0", "")); err != nil || st.Images.Green != imgB {
		t.Fatalf("status: %v %+v", err, st)
	}
}

// TestAdoptedGreenFinishesAReleaseWithOrWithoutTheTemplateLater (break-it review of #9, G3): the brownfield team's green was installed
// by kubectl/Helm (adopted: mlcanary sets only its image); the release deploys blue from their pod
// template (--pod-template). Blue_Green, with or without --pod-template, must leave a state
// Green_100 accepts: either green gets blue's whole template, or the hash comparison allows an
// adopted green. Otherwise the documented flow cannot finish.
func TestAdoptedGreenFinishesAReleaseWithOrWithoutTheTemplateLater(t *testing.T) {
	for _, withTemplate := range []bool{false, true} {
		name := "Blue_Green and Green_100 without --pod-template"
		if withTemplate {
			name = "every stage with --pod-template"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			newD0().apply(t, f)
			for _, st := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_50", imgB}, {"Blue_100", ""}, {"Blue_Green", ""}, {"Green_100", ""}} {
				tmpl := "azureml.yaml"
				if !withTemplate && (st.stage == "Blue_Green" || st.stage == "Green_100") {
					tmpl = ""
				}
				if err := f.runWith(st.stage, st.image, tmpl); err != nil {
					t.Fatalf("%s: %v", st.stage, err)
				}
			}
		})
	}
}
