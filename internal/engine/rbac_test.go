package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/lock"
)

// TestAutoscaledReleaseUnderTheDocumentedRole: with an HPA on green, the documented Role's verbs on
// horizontalpodautoscalers are enough for a whole release: Blue_0 copies green's HPA to blue,
// Green_100 removes the copy, and no stage notes an autoscaler it could not read.
func TestAutoscaledReleaseUnderTheDocumentedRole(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 1, 5))
	cl := documentedRoleClient(t, f)
	for _, st := range []string{"Blue_0@" + imgB, "Blue_50", "Blue_100", "Blue_Green", "Green_100"} {
		stage, image := cut(st)
		res, err := cl.Stage(context.Background(), f.cfg(stage, image), t.Logf)
		if err != nil {
			t.Fatalf("%s with the documented Role: %v", stage, err)
		}
		if n := strings.Join(res.Notes, "\n"); strings.Contains(n, "HorizontalPodAutoscalers") {
			t.Errorf("%s notes %q", stage, n)
		}
		if stage == "Blue_0" && !exists(hpaGVR, f.ns, "model-blue") {
			t.Fatal("Blue_0 with the documented Role gave blue no HPA")
		}
	}
	if exists(hpaGVR, f.ns, "model-blue") {
		t.Fatal("Green_100 with the documented Role left blue's HPA")
	}
}

// TestNamespaceScopedRoleIsEnough grants a user exactly the permissions the README lists, in one
// namespace and without access to Namespace objects, and runs a first release with it.
func TestNamespaceScopedRoleIsEnough(t *testing.T) {
	f := newFixture(t)
	rc := documentedRole(t, f)
	cl := clientFor(t, rc)
	for _, stage := range []string{"Blue_0", "Blue_100", "Blue_Green", "Green_100"} {
		c := f.cfg(stage, imgA)
		if stage != "Blue_0" {
			c.Image = ""
		}
		// With the namespace's lock as every front end does (frontend.TakeLock): read, take before the
		// first write, renew, release — each stage here writes.
		ctx, release := lockFence(t, rc, c)
		res, err := cl.Stage(ctx, c, t.Logf)
		release()
		if err != nil {
			t.Fatalf("%s with the documented Role: %v", stage, err)
		}
		// Listing VirtualServices in all namespaces is optional: refused, the namespace's are read.
		note := "only VirtualServices in namespace " + f.ns + " were checked for routes to blue: the credentials cannot list VirtualServices in all namespaces (optional)"
		if stage == "Green_100" && !slicesContain(res.Notes, note) {
			t.Errorf("Green_100 notes %q, want %q", res.Notes, note)
		}
	}
}

// documentedRoleClient returns a Client for a user with exactly the permissions the README lists
// (no pods, no namespaces), bound in f's namespace only.
func documentedRoleClient(t *testing.T, f *fixture) *engine.Client {
	t.Helper()
	return clientFor(t, documentedRole(t, f))
}

func clientFor(t *testing.T, rc *rest.Config) *engine.Client {
	t.Helper()
	cl, err := engine.NewClient(rc)
	if err != nil {
		t.Fatal(err)
	}
	cl.PollInterval, cl.Drain = 20*time.Millisecond, 0
	return cl
}

// lockFence is the namespace's lock for c's stage with rc as every front end passes it to the
// stage (frontend.TakeLock: the stage's context carrying the fence), and its release.
func lockFence(t *testing.T, rc *rest.Config, c config.Config) (context.Context, func()) {
	t.Helper()
	c.Lock.Holder = "pipeline"
	ctx, fence, release, err := frontend.TakeLock(lock.DefaultDuration)(context.Background(), rc, c, t.Logf)
	if err != nil {
		t.Fatalf("%s with the documented Role: %v", c.Stage, err)
	}
	return engine.WithFence(ctx, fence), func() {
		if err := release(); err != nil {
			t.Errorf("%s with the documented Role: %v", c.Stage, err)
		}
	}
}

// documentedRole returns credentials of a user with exactly the permissions the README lists (no
// pods, no namespaces), bound in f's namespace only.
func documentedRole(t *testing.T, f *fixture) *rest.Config {
	t.Helper()
	ctx := context.Background()
	rule := func(group string, resources ...string) map[string]any {
		return map[string]any{"apiGroups": []any{group}, "resources": toAny(resources), "verbs": []any{"get", "list", "create", "patch", "delete"}}
	}
	role := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
		"metadata": map[string]any{"name": "mlcanary", "namespace": f.ns},
		"rules": []any{rule("apps", "deployments"), rule("", "services"), rule("networking.istio.io", "gateways", "virtualservices"),
			// The namespace's lock, which every front end takes around a stage that writes (package lock).
			map[string]any{"apiGroups": []any{"coordination.k8s.io"}, "resources": []any{"leases"}, "verbs": []any{"get", "create", "update"}},
			// Autoscalers: list to find them, create and patch (server-side apply) for blue's copy and
			// Blue_Green's hand-over, delete to remove blue's copy (README, "Autoscaling").
			map[string]any{"apiGroups": []any{"autoscaling"}, "resources": []any{"horizontalpodautoscalers"}, "verbs": []any{"list", "create", "patch", "delete"}},
			// KEDA's ScaledObjects, "the same verbs" (README, "Command line"): blue's copy of green's.
			map[string]any{"apiGroups": []any{"keda.sh"}, "resources": []any{"scaledobjects"}, "verbs": []any{"list", "create", "patch", "delete"}}}}
	binding := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": "mlcanary", "namespace": f.ns},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "mlcanary"},
		"subjects": []any{map[string]any{"kind": "User", "name": "pipeline", "apiGroup": "rbac.authorization.k8s.io"}}}
	for res, obj := range map[string]map[string]any{"roles": role, "rolebindings": binding} {
		gvr := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: res}
		if _, err := env.Dynamic.Resource(gvr).Namespace(f.ns).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return awaitRole(t, f.ns, kube.VirtualServices, true, "the documented Role")
}

// awaitRole returns the pipeline user's credentials once the API server's RBAC authorizer — which
// sees a Role or RoleBinding through its informers, a moment after it is written — lets that user
// list gvr in ns (allowed) or forbids it (!allowed); what names the Role in the failure.
func awaitRole(t *testing.T, ns string, gvr schema.GroupVersionResource, allowed bool, what string) *rest.Config {
	t.Helper()
	rc, err := env.UserConfig("pipeline")
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, err := dyn.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{Limit: 1})
		if allowed && err == nil || !allowed && apierrors.IsForbidden(err) {
			return rc
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not take effect: %v", what, err)
		}
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestInterruptedStageLeavesTrafficOnGreen: Ctrl-C while blue's rollout is awaited ends the stage
// with an error that says so, and traffic is still on green with no route to blue.
func TestInterruptedStageLeavesTrafficOnGreen(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path) // green
	ctrl.Hold(f.ns, "model-blue")
	defer ctrl.Release(f.ns, "model-blue")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := f.cl.Stage(ctx, f.cfg("Blue_0", imgB), t.Logf)
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Fatalf("interrupted Blue_0: %v", err)
	}
	routing, _ := f.live()
	if routing.Weights[config.Green] != 100 || routing.References(config.Blue) {
		t.Errorf("after the interruption: %+v", routing)
	}
}
