package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// adoptedWithSidecar applies the documented hand-written setup (newD0) whose green Deployment has
// the given containers: a green someone else installed (Helm, kubectl) with sidecars.
func adoptedWithSidecar(t *testing.T, f *fixture, containers ...any) {
	t.Helper()
	d := newD0()
	d.Deployment["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"] = containers
	d.apply(t, f)
}

const sidecarImage = "registry.example.com/fluent-bit:3"

func sidecar() map[string]any { return map[string]any{"name": "log-shipper", "image": sidecarImage} }

// greenImages returns green's containers as name=image.
func greenImages(t *testing.T, f *fixture) string {
	t.Helper()
	var out []string
	for _, c := range field(t, kube.Deployments, f.ns, "model-green", "spec", "template", "spec", "containers").([]any) {
		m := c.(map[string]any)
		out = append(out, m["name"].(string)+"="+m["image"].(string))
	}
	return strings.Join(out, ",")
}

// TestAdoptedDeploymentTakesTheImageInTheContainerNamedByContainer (issue #9): the image change of
// an adopted green (Helm's, with a sidecar listed first) goes to the container --container names,
// never to the sidecar, through Blue_Green, and a re-run writes nothing; without --container, a
// container named model is the scoring one whatever its place.
func TestAdoptedDeploymentTakesTheImageInTheContainerNamedByContainer(t *testing.T) {
	for _, tc := range []struct {
		name, container string
		containers      []any
		want            string
	}{
		{"--container scorer, sidecar first", "scorer", []any{sidecar(), map[string]any{"name": "scorer", "image": imgA}}, "log-shipper=" + sidecarImage + ",scorer=" + imgB},
		{"--container scorer, sidecar last", "scorer", []any{map[string]any{"name": "scorer", "image": imgA}, sidecar()}, "scorer=" + imgB + ",log-shipper=" + sidecarImage},
		{"no --container, one named model after a sidecar", "", []any{sidecar(), map[string]any{"name": "model", "image": imgA}}, "log-shipper=" + sidecarImage + ",model=" + imgB},
		{"--container naming the only container", "scorer", []any{map[string]any{"name": "scorer", "image": imgA}}, "scorer=" + imgB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			adoptedWithSidecar(t, f, tc.containers...)
			for _, s := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_100", ""}, {"Blue_Green", ""}} {
				c := f.cfg(s.stage, s.image)
				c.Container = tc.container
				if _, err := f.run(c); err != nil {
					t.Fatalf("%s: %v", s.stage, err)
				}
			}
			if got := greenImages(t, f); got != tc.want {
				t.Errorf("after Blue_Green green's containers are %s, want %s", got, tc.want)
			}
			sc := f.cfg("Blue_0", "")
			sc.Container = tc.container
			if st, err := f.cl.Status(context.Background(), sc); err != nil || st.Images.Green != imgB || st.Stage != "Blue_Green" {
				t.Fatalf("status: %v", err)
			} else if st.Images.Green != imgB || st.Stage != "Blue_Green" {
				t.Errorf("status: stage %s, green's image %s; want Blue_Green, %s", st.Stage, st.Images.Green, imgB)
			}
			f.rec.reset()
			c := f.cfg("Blue_Green", "")
			c.Container = tc.container
			if _, err := f.run(c); err != nil {
				t.Fatalf("re-run of Blue_Green: %v", err)
			}
			noWrites(t, f, "re-run of Blue_Green")
		})
	}
}

// TestAdoptedDeploymentWhoseScoringContainerIsUnknownIsBadInput (issue #9): an adopted Deployment
// with several containers, none named model and no --container, or a --container it has no
// container of, is bad input on --container (exit 2) naming its containers, refused before any
// write, in a stage that writes its image (Blue_Green): the image would otherwise go to whichever
// container came first. Stages that do not change its image (Blue_0, Rollback) run.
func TestAdoptedDeploymentWhoseScoringContainerIsUnknownIsBadInput(t *testing.T) {
	containers := []any{map[string]any{"name": "scorer", "image": imgA}, sidecar()}
	for _, tc := range []struct{ stage, image, container, want string }{
		{"Rollback", "", "", ""},
		{"Blue_0", imgB, "", ""}, // blue is mlcanary's; green is not written by Blue_0
		{"Blue_Green", "", "", `invalid container "": allowed: the name of the container that runs the model in Deployment NS/model-green, which mlcanary did not create and whose image is all it changes: one of scorer, log-shipper (it has several containers and none is named model)`},
		{"Blue_Green", "", "model", `invalid container "model": allowed: the name of the container that runs the model in Deployment NS/model-green, which mlcanary did not create and whose image is all it changes: one of scorer, log-shipper`},
	} {
		t.Run(tc.stage+" --container "+tc.container, func(t *testing.T) {
			f := newFixture(t)
			adoptedWithSidecar(t, f, containers...)
			if tc.stage == "Blue_Green" {
				for _, s := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_100", ""}} {
					c := f.cfg(s.stage, s.image)
					c.Container = "scorer"
					if _, err := f.run(c); err != nil {
						t.Fatalf("%s: %v", s.stage, err)
					}
				}
			}
			before := versions(t, f.ns)
			f.rec.reset()
			c := f.cfg(tc.stage, tc.image)
			c.Container = tc.container
			_, err := f.run(c)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("%s: %v", tc.stage, err)
				}
				return
			}
			want := strings.ReplaceAll(tc.want, "NS", f.ns)
			if err == nil || !strings.HasSuffix(err.Error(), want) || app.ExitCode(err) != app.ExitInvalid {
				t.Fatalf("%s: %v (exit %d)\nwant exit 2 and %s", tc.stage, err, app.ExitCode(err), want)
			}
			noWrites(t, f, "the refused "+tc.stage)
			if after := versions(t, f.ns); after["Deployment/model-green"] != before["Deployment/model-green"] {
				t.Error("green changed")
			}
			if got := greenImages(t, f); got != "scorer="+imgA+",log-shipper="+sidecarImage {
				t.Errorf("green's containers are %s", got)
			}
		})
	}
}
