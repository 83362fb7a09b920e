package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// midStage reaches state from, then runs stage while the rollout of version held is held back,
// calls meddle once the stage has unrouted held and given it image (after its first
// VirtualService write), then lets held become ready and returns the stage's error.
func midStage(t *testing.T, f *fixture, from []string, stage string, held config.Version, image string, meddle func()) error {
	t.Helper()
	f.reach(from)
	name := "model-" + string(held)
	ctrl.Hold(f.ns, name)
	defer ctrl.Release(f.ns, name)
	c := f.cfg(stage, image)
	if stage != "Blue_0" {
		c.Image = ""
	}
	done := make(chan error, 1)
	go func() { _, err := f.cl.Stage(context.Background(), c, t.Logf); done <- err }()
	eventually(t, stage+" gave "+string(held)+" its new image", func() bool {
		select {
		case err := <-done:
			done <- err
			return true
		default:
		}
		_, images := f.live()
		return images[held] == image
	})
	meddle()
	ctrl.Release(f.ns, name)
	select {
	case err := <-done:
		f.rec.assertSafe(t)
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not end", stage)
		return nil
	}
}

// statusWrite writes the VirtualService's status subresource the way istiod reports
// reconciliation (status.conditions, status.observedGeneration): spec and generation stay.
func statusWrite(t *testing.T, ns string) {
	t.Helper()
	vs := get(t, kube.VirtualServices, ns, "mlmodel-virtualservice")
	patch := `{"status":{"observedGeneration":` + strconv.FormatInt(vs.GetGeneration(), 10) + `,"conditions":[{"type":"Reconciled","status":"True","lastProbeTime":"` + time.Now().UTC().Format(time.RFC3339) + `"}]}}`
	if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(ns).Patch(context.Background(), "mlmodel-virtualservice",
		types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "pilot-discovery"}, "status"); err != nil {
		t.Fatal(err)
	}
	after := get(t, kube.VirtualServices, ns, "mlmodel-virtualservice")
	if after.GetGeneration() != vs.GetGeneration() || after.GetResourceVersion() == vs.GetResourceVersion() {
		t.Fatalf("the status write changed generation %d → %d, resourceVersion %s → %s", vs.GetGeneration(), after.GetGeneration(), vs.GetResourceVersion(), after.GetResourceVersion())
	}
}

// TestControllerWritesDoNotStopAStage: writes that change nothing the stage decided on — istiod's
// status, a label or annotation another tool adds, a status update of a Deployment — between the
// stage's writes do not stop it: it ends with both header routes, and what others wrote survives.
func TestControllerWritesDoNotStopAStage(t *testing.T) {
	cases := []struct {
		name   string
		meddle func(t *testing.T, ns string)
		check  func(t *testing.T, vs *unstructured.Unstructured)
	}{
		{"istiod writes the VirtualService's status", func(t *testing.T, ns string) { statusWrite(t, ns) },
			func(t *testing.T, vs *unstructured.Unstructured) {
				if c, _, _ := unstructured.NestedSlice(vs.Object, "status", "conditions"); len(c) != 1 {
					t.Errorf("istiod's status is gone: %v", vs.Object["status"])
				}
			}},
		{"another tool labels and annotates the VirtualService", func(t *testing.T, ns string) {
			applyAs(t, "argocd", kube.VirtualServices, ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
				"metadata": map[string]any{"name": "mlmodel-virtualservice", "labels": map[string]any{"team": "scoring"},
					"annotations": map[string]any{"argocd.argoproj.io/tracking-id": "scoring:networking.istio.io/VirtualService"}}})
		}, func(t *testing.T, vs *unstructured.Unstructured) {
			if vs.GetLabels()["team"] != "scoring" || vs.GetAnnotations()["argocd.argoproj.io/tracking-id"] == "" {
				t.Errorf("the other tool's label or annotation is gone: %v %v", vs.GetLabels(), vs.GetAnnotations())
			}
		}},
		{"status and metadata of green's Deployment change", func(t *testing.T, ns string) {
			statusWrite(t, ns)
			green := get(t, kube.Deployments, ns, "model-green")
			if err := env.MarkReady(context.Background(), green); err != nil { // a fresh status, still rolled out
				t.Fatal(err)
			}
			applyAs(t, "kubectl-annotate", kube.Deployments, ns, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "model-green", "annotations": map[string]any{"team/owner": "scoring"}}})
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			err := midStage(t, f, states[5].path, "Blue_0", config.Blue, imgC, func() { tc.meddle(t, f.ns) }) // from Blue_50
			if err != nil {
				t.Fatalf("Blue_0 stopped by a write that changed nothing it decided on: %v", err)
			}
			c := f.cfg("Blue_0", imgC)
			vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
			if routing := trafficOf(&c, vs); !routing.Headers[config.Blue] || !routing.Headers[config.Green] || routing.Weights[config.Green] != 100 {
				t.Errorf("after Blue_0: %+v, want green 100%% and both header routes", routing)
			}
			if tc.check != nil {
				tc.check(t, vs)
			}
		})
	}
}

// TestSpecChangeMidStageStops: a change of what the stage decided on — the VirtualService's spec
// (weights changed by someone), or the image of a version it is about to route to — still stops it
// before it routes, with the sentence that says so.
func TestSpecChangeMidStageStops(t *testing.T) {
	cases := []struct {
		name, want string
		meddle     func(t *testing.T, ns string)
	}{
		{"someone changes the weights", "was changed by someone else while this stage ran", func(t *testing.T, ns string) {
			vs := get(t, kube.VirtualServices, ns, "mlmodel-virtualservice")
			routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
			last := routes[len(routes)-1].(map[string]any) // the default route: green 100 while blue is replaced
			last["route"] = []any{
				map[string]any{"destination": map[string]any{"host": "model-svc-green"}, "weight": int64(90)},
				map[string]any{"destination": map[string]any{"host": "model-svc-legacy"}, "weight": int64(10)}}
			_ = unstructured.SetNestedSlice(vs.Object, routes, "spec", "http")
			if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(ns).Update(context.Background(), vs, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"someone changes green's image", "green runs " + imgB + " now, not " + imgA, func(t *testing.T, ns string) {
			applyAs(t, "kubectl-set-image", kube.Deployments, ns, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "model-green"},
				"spec":     map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "model", "image": imgB}}}}}})
			eventually(t, "green rolled out with the new image", func() bool { return testenv.IsRolledOut(get(t, kube.Deployments, ns, "model-green")) })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			err := midStage(t, f, states[5].path, "Blue_0", config.Blue, imgC, func() { tc.meddle(t, f.ns) }) // from Blue_50
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Blue_0 with a concurrent change: %v, want %q", err, tc.want)
			}
			if routing, _ := f.live(); routing.References(config.Blue) {
				t.Errorf("blue was routed after the concurrent change: %+v", routing)
			}
		})
	}
}

// TestWriteRacingTheLockIsRetried: each VirtualService write carries the resourceVersion read just
// before it, so a write by someone else in between makes the API server answer 409 Conflict. After
// a status write (istiod) the stage reads again and writes; after a spec change it stops.
func TestWriteRacingTheLockIsRetried(t *testing.T) {
	cases := []struct {
		name   string
		meddle func(t *testing.T, ns string)
		want   string // "" when the stage succeeds
	}{
		{"status", func(t *testing.T, ns string) { statusWrite(t, ns) }, ""},
		{"label", func(t *testing.T, ns string) {
			vs := get(t, kube.VirtualServices, ns, "mlmodel-virtualservice")
			vs.SetLabels(map[string]string{"changed-by": "someone-else"})
			if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(ns).Update(context.Background(), vs, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"spec", func(t *testing.T, ns string) {
			applyAs(t, "someone", kube.VirtualServices, ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
				"metadata": map[string]any{"name": "mlmodel-virtualservice"}, "spec": map[string]any{"gateways": []any{"mlmodel-gateway", "mesh"}}})
		}, "was changed by someone else while this stage ran (its spec changed: generation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach(states[5].path) // Blue_50
			var once sync.Once
			f.rec.mu.Lock()
			f.rec.beforeWrite = func(req *http.Request) {
				if req.Method == http.MethodPatch && strings.Contains(req.URL.Path, "/virtualservices/") {
					once.Do(func() { tc.meddle(t, f.ns) })
				}
			}
			f.rec.mu.Unlock()
			var logs []string
			_, err := f.cl.Stage(context.Background(), f.cfg("Blue_0", imgC), func(format string, args ...any) {
				logs = append(logs, fmt.Sprintf(format, args...))
			})
			f.rec.assertSafe(t)
			if !strings.Contains(strings.Join(logs, "\n"), "was written by someone else just now; reading it again") {
				t.Errorf("the first write did not conflict: %q", logs)
			}
			if tc.want == "" && err != nil {
				t.Fatalf("Blue_0 after a racing %s write: %v", tc.name, err)
			}
			if routing, _ := f.live(); tc.want == "" && (!routing.Headers[config.Blue] || !routing.Headers[config.Green]) {
				t.Errorf("after Blue_0: %+v, want both header routes", routing)
			}
			if vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice"); tc.name == "label" && vs.GetLabels()["changed-by"] != "someone-else" {
				t.Errorf("the label written in between is gone: %v", vs.GetLabels())
			}
			if tc.want != "" && kube.CauseOf(err) != kube.CauseConflict {
				t.Errorf("a spec change found after a conflict is not classified as a conflict: %q", kube.CauseOf(err))
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Blue_0 after a racing %s write: %v, want %q", tc.name, err, tc.want)
			}
		})
	}
}

// TestStatusWriteDuringBlueGreen: istiod's status write while Blue_Green waits for green (after it
// unrouted green) does not stop it: it ends with blue 100% and both header routes.
func TestStatusWriteDuringBlueGreen(t *testing.T) {
	f := newFixture(t)
	if err := midStage(t, f, states[6].path, "Blue_Green", config.Green, imgB, func() { statusWrite(t, f.ns) }); err != nil { // from Blue_100
		t.Fatalf("Blue_Green stopped by istiod's status write: %v", err)
	}
	if routing, _ := f.live(); routing.Weights[config.Blue] != 100 || !routing.Headers[config.Green] || !routing.Headers[config.Blue] {
		t.Errorf("after Blue_Green: %+v, want blue 100%% and both header routes", routing)
	}
}
