package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestNamespaceScopedRoleIsEnough grants a user exactly the permissions the README lists, in one
// namespace and without access to Namespace objects, and runs a first release with it.
func TestNamespaceScopedRoleIsEnough(t *testing.T) {
	f := newFixture(t)
	cl := documentedRoleClient(t, f)
	for _, stage := range []string{"Blue_0", "Blue_100", "Blue_Green", "Green_100"} {
		c := f.cfg(stage, imgA)
		if stage != "Blue_0" {
			c.Image = ""
		}
		res, err := cl.Stage(context.Background(), c, t.Logf)
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
	ctx := context.Background()
	rule := func(group string, resources ...string) map[string]any {
		return map[string]any{"apiGroups": []any{group}, "resources": toAny(resources), "verbs": []any{"get", "list", "create", "patch", "delete"}}
	}
	role := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
		"metadata": map[string]any{"name": "mlcanary", "namespace": f.ns},
		"rules":    []any{rule("apps", "deployments"), rule("", "services"), rule("networking.istio.io", "gateways", "virtualservices")}}
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
	rc, err := env.UserConfig("pipeline")
	if err != nil {
		t.Fatal(err)
	}
	// The API server's RBAC authorizer sees a new Role and RoleBinding through its informers, a
	// moment after they are written: wait until the user may list what the Role grants.
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, err := dyn.Resource(kube.VirtualServices).Namespace(f.ns).List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the documented Role did not take effect: %v", err)
		}
	}
	cl, err := engine.NewClient(rc)
	if err != nil {
		t.Fatal(err)
	}
	cl.PollInterval, cl.Drain = 20*time.Millisecond, 0
	return cl
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
