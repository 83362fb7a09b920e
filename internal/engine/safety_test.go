package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// applyAs server-side applies a patch as another field manager, the way a person's kubectl or
// another tool would.
func applyAs(t *testing.T, manager string, gvr schema.GroupVersionResource, ns string, obj map[string]any) {
	t.Helper()
	data, _ := json.Marshal(obj)
	name := obj["metadata"].(map[string]any)["name"].(string)
	force := true
	if _, err := env.Dynamic.Resource(gvr).Namespace(ns).Patch(context.Background(), name, types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: manager, Force: &force}); err != nil {
		t.Fatalf("applying as %s: %v", manager, err)
	}
}

func get(t *testing.T, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := env.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestForeignFieldsSurvive: an annotation, a label, an extra route and an extra match block that
// someone else added survive a re-run (which writes nothing) and stages that write the
// VirtualService and green's Deployment.
func TestForeignFieldsSurvive(t *testing.T) {
	f := newFixture(t)
	f.reach(states[5].path) // Blue_50
	c := f.cfg("Blue_50", "")
	applyAs(t, "someone", kube.Deployments, f.ns, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "model-green", "annotations": map[string]any{"team/owner": "ml-platform"}}})
	applyAs(t, "someone", kube.Services, f.ns, map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "model-svc-blue", "labels": map[string]any{"cost-center": "42"}}})
	vs := get(t, kube.VirtualServices, f.ns, c.VirtualService)
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	blueRoute := routes[0].(map[string]any)
	matches := blueRoute["match"].([]any)
	blueRoute["match"] = append(matches, map[string]any{"headers": map[string]any{"x-api-version": map[string]any{"exact": "blue"}}, "uri": map[string]any{"prefix": "/predict"}})
	debug := map[string]any{"name": "debug-echo", "match": []any{map[string]any{"headers": map[string]any{"x-debug": map[string]any{"exact": "1"}}}},
		"route": []any{map[string]any{"destination": map[string]any{"host": "echo"}}}}
	withDebug := append([]any{routes[0], routes[1]}, debug, routes[2])
	applyAs(t, "someone", kube.VirtualServices, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": c.VirtualService, "annotations": map[string]any{"team/dashboard": "grafana/abc"}},
		"spec":     map[string]any{"http": withDebug}})

	f.rec.reset()
	f.stage("Blue_50", "")
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("re-run after foreign edits wrote %v, want nothing", writes)
	}
	f.stage("Blue_100", "")
	f.stage("Blue_Green", "") // writes green's Deployment (new image) and routes twice
	assertForeign(t, f, c)
}

func assertForeign(t *testing.T, f *fixture, c config.Config) {
	t.Helper()
	if got := get(t, kube.Deployments, f.ns, "model-green").GetAnnotations()["team/owner"]; got != "ml-platform" {
		t.Errorf("foreign annotation on Deployment lost: %q", got)
	}
	if got := get(t, kube.Services, f.ns, "model-svc-blue").GetLabels()["cost-center"]; got != "42" {
		t.Errorf("foreign label on Service lost: %q", got)
	}
	vs := get(t, kube.VirtualServices, f.ns, c.VirtualService)
	if got := vs.GetAnnotations()["team/dashboard"]; got != "grafana/abc" {
		t.Errorf("foreign annotation on VirtualService lost: %q", got)
	}
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	var names []string
	for _, r := range routes {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "mlcanary-blue,mlcanary-green,debug-echo,mlcanary-default" {
		t.Errorf("routes after Blue_100: %v", names)
	}
	if m := routes[0].(map[string]any)["match"].([]any); len(m) != 2 {
		t.Errorf("extra match block on mlcanary-blue lost: %v", m)
	}
	if w, _, _ := unstructured.NestedSlice(routes[3].(map[string]any), "route"); len(w) != 1 {
		t.Errorf("default route after Blue_Green: %v", w)
	}
}

// TestReadinessTimeoutLeavesTrafficUnchanged: blue never becomes ready, the stage fails after its
// timeout, and traffic stays on green with no route to blue; once blue is ready, a re-run finishes.
func TestReadinessTimeoutLeavesTrafficUnchanged(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path) // green
	ctrl.Hold(f.ns, "model-blue")
	defer ctrl.Release(f.ns, "model-blue")
	c := f.cfg("Blue_0", imgB)
	c.Timeout = 700 * time.Millisecond
	_, err := f.run(c)
	if err == nil || !strings.Contains(err.Error(), "did not become ready within 700ms") {
		t.Fatalf("Blue_0 with an unready blue: %v", err)
	}
	routing, _ := f.live()
	if routing.Weights[config.Green] != 100 || routing.References(config.Blue) {
		t.Errorf("after the timeout, routing %+v, want green 100%% and no route to blue", routing)
	}
	c50 := f.cfg("Blue_50", "")
	c50.Timeout = 300 * time.Millisecond
	f.rec.reset()
	if _, err := f.run(c50); err == nil || !strings.Contains(err.Error(), "must be ready, but the controller has not seen the latest spec yet; Blue_0 deploys it (waited 300ms)") {
		t.Errorf("Blue_50 with an unready blue: %v", err)
	}
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("Blue_50 with an unready blue wrote %v", writes)
	}
	ctrl.Release(f.ns, "model-blue")
	f.stage("Blue_0", imgB)
	if routing, _ := f.live(); !routing.Headers[config.Blue] {
		t.Errorf("after the re-run, blue has no header route: %+v", routing)
	}
}

// TestPreconditionMessages pins the sentences users read when a stage is refused.
func TestPreconditionMessages(t *testing.T) {
	cases := []struct {
		state, stage, image, want string
	}{
		{"empty", "Blue_50", "", "Blue_50: blue (Deployment %s/model-blue) must exist and be ready, but it does not exist; Blue_0 deploys it"},
		{"Blue_50", "Blue_Green", "", "Blue_Green: all traffic must be on blue before green is replaced, but the default route sends green 50%, blue 50%; Blue_100 establishes that"},
		{"Blue_100", "Green_100", "", "Green_100: green runs " + imgA + " but blue runs " + imgB + ", so removing blue would drop the new model; Blue_Green puts blue's image on green"},
		{"Blue_0", "Blue_50", imgC, "Blue_50: blue runs " + imgB + ", not the requested " + imgC + "; Blue_0 deploys a new image as blue"},
		{"first-Blue_100", "Blue_0", imgC, "Blue_0: blue (Deployment %s/model-blue) serves 100% of traffic with " + imgA + " and there is no green"},
		{"first-Blue_0", "Rollback", "", "Rollback: green (Deployment %s/model-green) must exist and be ready, but it does not exist; there is nothing to roll back to"},
	}
	for _, tc := range cases {
		t.Run(tc.state+"_"+tc.stage, func(t *testing.T) {
			f := newFixture(t)
			for _, s := range states {
				if s.name == tc.state {
					f.reach(s.path)
				}
			}
			f.rec.reset()
			_, err := f.try(tc.stage, tc.image)
			want := strings.ReplaceAll(tc.want, "%s", f.ns)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v\nwant it to contain %q", err, want)
			}
			if _, writes := f.rec.counts(); len(writes) != 0 {
				t.Errorf("refused stage wrote %v", writes)
			}
		})
	}
}

// TestClusterProblemsAreOneSentence covers a missing namespace, RBAC and an unreachable server.
func TestClusterProblemsAreOneSentence(t *testing.T) {
	f := newFixture(t)
	c := f.cfg("Blue_0", imgA)
	c.Namespace = "does-not-exist"
	if _, err := f.run(c); err == nil || !strings.Contains(err.Error(), `namespace "does-not-exist" does not exist`) {
		t.Errorf("missing namespace: %v", err)
	}
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("wrote %v into a missing namespace", writes)
	}
	nobody, err := env.UserConfig("nobody")
	if err != nil {
		t.Fatal(err)
	}
	assertStageErr(t, nobody, f.cfg("Blue_0", imgA), `RBAC does not allow user "nobody" to get virtualservices.networking.istio.io`)
	unreachable := &rest.Config{Host: "https://127.0.0.1:1", Timeout: 2 * time.Second}
	assertStageErr(t, unreachable, f.cfg("Blue_0", imgA), "cannot reach the API server at https://127.0.0.1:1")
}

func assertStageErr(t *testing.T, rc *rest.Config, c config.Config, want string) {
	t.Helper()
	cl, err := engine.NewClient(rc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.Stage(context.Background(), c, nil)
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v, want one line containing %q", err, want)
	}
}

// TestIstioMissing runs against an API server without Istio's CRDs: the package's shared server has
// them installed (CRDs are cluster-wide, a namespace cannot hide them), so this one test needs a
// server of its own.
func TestIstioMissing(t *testing.T) {
	testenv.SkipIfShort(t)
	bare, err := testenv.New(testenv.Options{WithoutIstio: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := bare.Stop(); err != nil {
			t.Errorf("stopping the API server: %v", err)
		}
	}()
	c := config.Default()
	c.Stage, c.Image = config.Stage{Kind: config.KindBlue0}, imgA
	assertStageErr(t, bare.Config, c, "Istio is not installed in this cluster: the API server does not serve networking.istio.io/v1")
}
