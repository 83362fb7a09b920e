package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/golden"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// template parses render's realistic fixture testdata/templates/name as --pod-template does.
func (f *fixture) template(c *config.Config, name string) *config.PodTemplate {
	f.t.Helper()
	path := filepath.Join("..", "render", "testdata", "templates", name)
	data, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	t, err := config.ParsePodTemplate(path, data, c)
	if err != nil {
		f.t.Fatal(err)
	}
	return t
}

// runWith performs stage with image from the fixture template name ("" for none).
func (f *fixture) runWith(stage, image, template string) error {
	f.t.Helper()
	c := f.cfg(stage, image)
	if template != "" {
		c.Template = f.template(&c, template)
	}
	_, err := f.run(c)
	return err
}

// podSpec is the live pod template of Deployment name, typed.
func podSpec(t *testing.T, ns, name string) corev1.PodTemplateSpec {
	t.Helper()
	u := get(t, kube.Deployments, ns, name)
	tmpl, _, _ := unstructured.NestedMap(u.Object, "spec", "template")
	var p corev1.PodTemplateSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTemplateFlowOnTheAPIServer: for each realistic template (a GPU model, an Azure ML inference
// server, a workload-identity pod from a helm stream), against the real API server: Blue_0 deploys
// every field of the template (resources, GPU limits, env, probes, volumes, init containers,
// service account, node selector, tolerations, pod labels and annotations) with mlcanary's labels
// and image; a re-run of every stage writes nothing, although the API server defaulted fields of
// the template (probe thresholds, protocol, terminationMessagePath, imagePullPolicy, dnsPolicy...);
// Blue_Green — run without --pod-template, as a pipeline may — gives green blue's whole pod
// template read from the cluster, with its hash; Green_100 holds and removes blue.
func TestTemplateFlowOnTheAPIServer(t *testing.T) {
	for _, name := range []string{"gpu.yaml", "azureml.yaml", "workload-identity.yaml"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			c := f.cfg("Blue_0", imgA)
			want := f.template(&c, name)
			if err := f.runWith("Blue_0", imgA, name); err != nil {
				t.Fatalf("Blue_0: %v", err)
			}
			blue := podSpec(t, f.ns, "model-blue")
			assertTemplateFields(t, want, blue, imgA)
			if h := get(t, kube.Deployments, f.ns, "model-blue").GetAnnotations()[config.TemplateHashAnnotation]; h != want.Hash {
				t.Errorf("blue's template hash %q, want %q", h, want.Hash)
			}
			for _, st := range []struct{ stage, image, template string }{
				{"Blue_0", imgA, name}, {"Blue_50", imgA, name}, {"Blue_100", "", ""}, {"Blue_Green", "", ""}, {"Green_100", "", name},
			} {
				if err := f.runWith(st.stage, st.image, st.template); err != nil {
					t.Fatalf("%s: %v", st.stage, err)
				}
				if st.stage == "Blue_Green" {
					green := podSpec(t, f.ns, "model-green")
					if green.Labels[config.VersionLabel] != "green" {
						t.Errorf("green's pod labels %v", green.Labels)
					}
					green.Labels, blue.Labels = nil, nil
					if !reflect.DeepEqual(green, blue) {
						t.Errorf("green's pod template after Blue_Green differs from blue's:\ngreen %s\nblue  %s", green.String(), blue.String())
					}
					if h := get(t, kube.Deployments, f.ns, "model-green").GetAnnotations()[config.TemplateHashAnnotation]; h != want.Hash {
						t.Errorf("green's template hash %q, want blue's %q", h, want.Hash)
					}
				}
				f.rec.reset()
				if err := f.runWith(st.stage, st.image, st.template); err != nil {
					t.Fatalf("%s re-run: %v", st.stage, err)
				}
				noWrites(t, f, st.stage+" re-run with a pod template")
			}
		})
	}
}

// assertTemplateFields checks that the live pod template holds every field the template gave
// (the server may add defaults) and mlcanary's image on the scoring container.
func assertTemplateFields(t *testing.T, want *config.PodTemplate, live corev1.PodTemplateSpec, image string) {
	t.Helper()
	w := want.Spec.DeepCopy()
	for i := range w.Spec.Containers {
		if w.Spec.Containers[i].Name == want.Container {
			w.Spec.Containers[i].Image = image
		}
	}
	wantU, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(w)
	liveU, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(&live)
	delete(wantU, "metadata")
	if missing := missingFields(wantU, liveU, ""); len(missing) > 0 {
		t.Errorf("the live pod template lacks the template's %s", strings.Join(missing, ", "))
	}
	for k, v := range want.Spec.Labels {
		if live.Labels[k] != v {
			t.Errorf("pod label %s=%q, want the template's %q", k, live.Labels[k], v)
		}
	}
	for k, v := range want.Spec.Annotations {
		if live.Annotations[k] != v {
			t.Errorf("pod annotation %s=%q, want the template's %q", k, live.Annotations[k], v)
		}
	}
}

// missingFields lists the paths of want whose values live does not hold (lists by index).
func missingFields(want, live any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		l, _ := live.(map[string]any)
		var out []string
		for k, v := range w {
			out = append(out, missingFields(v, l[k], path+"."+k)...)
		}
		return out
	case []any:
		l, _ := live.([]any)
		if len(l) != len(w) {
			return []string{path}
		}
		var out []string
		for i := range w {
			out = append(out, missingFields(w[i], l[i], path+"["+string(rune('0'+i))+"]")...)
		}
		return out
	}
	if !reflect.DeepEqual(want, live) {
		return []string{path}
	}
	return nil
}

// TestTemplateChangeIsARelease: a later stage given another pod template than the one blue runs is
// refused before any write (the template, not only the image, is what the release deployed); Blue_0
// with the changed template redeploys blue (unrouted first) and then holds.
func TestTemplateChangeIsARelease(t *testing.T) {
	f := newFixture(t)
	for _, st := range []string{"Blue_0", "Blue_100", "Blue_Green", "Green_100"} {
		if err := f.runWith(st, imgA, "azureml.yaml"); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	if err := f.runWith("Blue_0", imgB, "azureml.yaml"); err != nil {
		t.Fatal(err)
	}
	f.rec.reset()
	err := f.runWith("Blue_50", imgB, "gpu.yaml")
	if err == nil || !strings.Contains(err.Error(), "blue runs the pod template with hash") || !strings.Contains(err.Error(), "gpu.yaml") {
		t.Fatalf("Blue_50 with another template: %v", err)
	}
	noWrites(t, f, "Blue_50 refused for another template")
	if err := f.runWith("Blue_0", imgB, "gpu.yaml"); err != nil {
		t.Fatalf("Blue_0 with the changed template: %v", err)
	}
	if p := podSpec(t, f.ns, "model-blue"); p.Spec.NodeSelector["agentpool"] != "gpunp" {
		t.Errorf("blue's node selector %v after Blue_0 with the GPU template", p.Spec.NodeSelector)
	}
	f.rec.reset()
	if err := f.runWith("Blue_50", imgB, "gpu.yaml"); err != nil {
		t.Fatal(err)
	}
	f.rec.reset()
	if err := f.runWith("Blue_50", imgB, "gpu.yaml"); err != nil {
		t.Fatal(err)
	}
	noWrites(t, f, "Blue_50 re-run")
}

// TestOfflinePlanFromTemplate: `plan --offline --pod-template` renders the full Deployments from
// each realistic template — Blue_0 blue's, Blue_Green green's (blue's whole template, copied from
// the assumed cluster) — golden-tested with the summary: a GPU model, an Azure ML inference
// server, a workload-identity pod.
func TestOfflinePlanFromTemplate(t *testing.T) {
	for _, name := range []string{"gpu.yaml", "azureml.yaml", "workload-identity.yaml"} {
		for _, stage := range []string{"Blue_0", "Blue_Green"} {
			t.Run(name+" "+stage, func(t *testing.T) {
				f := &fixture{t: t}
				c := config.Default()
				c.Stage, _ = config.ParseStage(stage)
				c.ImagePullSecret = "acr-pull"
				c.Template = f.template(&c, name)
				if stage == "Blue_0" {
					c.Image = imgB
				}
				res, err := engine.Offline(context.Background(), c, engine.OfflineOptions{Now: offlineNow, GreenImage: imgA, BlueImage: imgB})
				if err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, "offline-template-"+strings.TrimSuffix(name, ".yaml")+"-"+stage+".golden", res.Objects+"---\n"+summary.Markdown(res))
			})
		}
	}
}
