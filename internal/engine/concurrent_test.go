package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestChangeDuringAStageRefusesToRoute: the stage decided from what it read; if someone changes
// the VirtualService's spec while it waits (a second pipeline run, a person), it routes nothing more.
func TestChangeDuringAStageRefusesToRoute(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path) // green
	ctrl.Hold(f.ns, "model-blue")
	defer ctrl.Release(f.ns, "model-blue")
	done := make(chan error, 1)
	go func() { _, err := f.cl.Stage(context.Background(), f.cfg("Blue_0", imgB), nil); done <- err }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Get(context.Background(), "model-blue", metav1.GetOptions{}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Blue_0 never created blue")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A spec change (here: the VirtualService is bound to the mesh as well); a label, an annotation
	// or istiod's status would not stop the stage (conflict_test.go).
	applyAs(t, "someone", kube.VirtualServices, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "mlmodel-virtualservice"}, "spec": map[string]any{"gateways": []any{"mlmodel-gateway", "mesh"}}})
	ctrl.Release(f.ns, "model-blue")
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "was changed by someone else while this stage ran") {
		t.Fatalf("Blue_0 with a concurrent change: %v", err)
	}
	if routing, _ := f.live(); routing.References(config.Blue) {
		t.Errorf("blue was routed after the concurrent change: %+v", routing)
	}
}

// TestStaleAdoptedRouteIsRemoved: a documented-shape header route to blue added after blue was
// removed points at a missing Service; a re-run of Green_100 takes it out instead of holding.
func TestStaleAdoptedRouteIsRemoved(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path) // green (after Green_100)
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	stale := map[string]any{"match": []any{map[string]any{"uri": map[string]any{"prefix": "/score"}, "headers": map[string]any{"x-api-version": map[string]any{"exact": "blue"}}}},
		"route": []any{map[string]any{"destination": map[string]any{"host": "model-svc-blue"}}}}
	applyAs(t, "someone", kube.VirtualServices, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "mlmodel-virtualservice"}, "spec": map[string]any{"http": append([]any{stale}, routes...)}})
	f.stage("Green_100", "")
	if routing, _ := f.live(); routing.References(config.Blue) {
		t.Errorf("a route to the removed blue survived Green_100: %+v", routing)
	}
}
