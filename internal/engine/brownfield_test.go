package engine_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// brownfieldManager is the field manager the brownfield setups are written as: another tool
// (kubectl, Helm) owns them until mlcanary takes some fields over.
const brownfieldManager = "kubectl"

// d0 is issue #8's documented hand-written setup (green only), as maps a case may change before it
// is applied: Deployment model-green (app=model, model_version=green, container model, imgA, port
// 5001), Service model-svc-green, Gateway mlmodel-gateway (selector istio=ingressgateway, server
// 80/http/"*") and VirtualService mlmodel-virtualservice (hosts ["*"], gateways [mlmodel-gateway],
// a /score + x-api-version: green header route, and a default route sending green 100).
type d0 struct {
	Deployment, Service, Gateway, VirtualService map[string]any
}

func newD0() *d0 {
	labels := map[string]any{"app": "model", "model_version": "green"}
	dest := map[string]any{"host": "model-svc-green", "port": map[string]any{"number": int64(5001)}}
	return &d0{
		Deployment: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "model-green", "labels": labels},
			"spec": map[string]any{"replicas": int64(1), "selector": map[string]any{"matchLabels": labels},
				"template": map[string]any{"metadata": map[string]any{"labels": labels},
					"spec": map[string]any{"containers": []any{map[string]any{"name": "model", "image": imgA,
						"ports": []any{map[string]any{"containerPort": int64(5001)}}}}}}}},
		Service: map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": "model-svc-green", "labels": labels},
			"spec":     map[string]any{"selector": labels, "ports": []any{map[string]any{"name": "http", "port": int64(5001), "targetPort": int64(5001)}}}},
		Gateway: map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
			"metadata": map[string]any{"name": "mlmodel-gateway"},
			"spec": map[string]any{"selector": map[string]any{"istio": "ingressgateway"},
				"servers": []any{map[string]any{"port": map[string]any{"number": int64(80), "name": "http", "protocol": "HTTP"}, "hosts": []any{"*"}}}}},
		VirtualService: map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
			"metadata": map[string]any{"name": "mlmodel-virtualservice"},
			"spec": map[string]any{"hosts": []any{"*"}, "gateways": []any{"mlmodel-gateway"}, "http": []any{
				map[string]any{"match": []any{map[string]any{"uri": map[string]any{"prefix": "/score"},
					"headers": map[string]any{"x-api-version": map[string]any{"exact": "green"}}}},
					"route": []any{map[string]any{"destination": dest}}},
				map[string]any{"route": []any{map[string]any{"destination": dest, "weight": int64(100)}}},
			}}},
	}
}

// apply writes the setup as brownfieldManager (server-side apply) and waits until green is rolled
// out; a nil map is skipped, so a case can leave an object out.
func (d *d0) apply(t *testing.T, f *fixture) {
	t.Helper()
	for _, o := range []struct {
		gvr schema.GroupVersionResource
		obj map[string]any
	}{{kube.Deployments, d.Deployment}, {kube.Services, d.Service}, {kube.Gateways, d.Gateway}, {kube.VirtualServices, d.VirtualService}} {
		if o.obj != nil {
			applyAs(t, brownfieldManager, o.gvr, f.ns, o.obj)
		}
	}
	if d.Deployment != nil {
		waitReady(t, f.ns, d.Deployment["metadata"].(map[string]any)["name"].(string))
	}
}

// waitReady waits until the stand-in controller has rolled Deployment ns/name out.
func waitReady(t *testing.T, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		d, err := env.Dynamic.Resource(kube.Deployments).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil && testenv.IsRolledOut(d) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("Deployment %s/%s did not become ready", ns, name)
}

// TestD0IsAdoptedAsDocumented: the plain D0 setup goes through the documented flow.
func TestD0IsAdoptedAsDocumented(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Rollback", "")
	f.stage("Blue_0", imgB)
	f.stage("Blue_50", imgB)
	if routing, images := f.live(); routing.Weights["blue"] != 50 || images["green"] != imgA {
		t.Fatalf("after Blue_50 on D0: %v %v", routing, images)
	}
}

// d0Containers is the pod template's container list of d's Deployment, for a case to change.
func d0Containers(d *d0) []any {
	return d.Deployment["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
}

// d0Routes is d's VirtualService's http route list, for a case to change.
func d0Routes(d *d0) []any { return d.VirtualService["spec"].(map[string]any)["http"].([]any) }
