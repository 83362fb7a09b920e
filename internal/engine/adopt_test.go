package engine_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// TestAdoptsTheDocumentedHandWrittenSetup: a namespace set up by hand the documented way (kubectl
// apply of Deployments, Services and a VirtualService with unnamed routes) moves over unchanged:
// mlcanary reads its split, takes its routes over instead of duplicating them, and keeps going.
func TestAdoptsTheDocumentedHandWrittenSetup(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, v := range []string{"green", "blue"} {
		labels := map[string]any{"app": "model", "model_version": v}
		create(t, kube.Deployments, f.ns, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "model-" + v},
			"spec": map[string]any{"replicas": int64(1), "selector": map[string]any{"matchLabels": labels},
				"template": map[string]any{"metadata": map[string]any{"labels": labels},
					"spec": map[string]any{"containers": []any{map[string]any{"name": "model", "image": map[string]string{"green": imgA, "blue": imgB}[v],
						"ports": []any{map[string]any{"containerPort": int64(5001)}}}}}}}})
		create(t, kube.Services, f.ns, map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": "model-svc-" + v},
			"spec":     map[string]any{"selector": labels, "ports": []any{map[string]any{"port": int64(5001)}}}})
	}
	headerRoute := func(v string) map[string]any {
		return map[string]any{"match": []any{map[string]any{"uri": map[string]any{"prefix": "/score"}, "headers": map[string]any{"x-api-version": map[string]any{"exact": v}}}},
			"route": []any{map[string]any{"destination": map[string]any{"host": "model-svc-" + v, "port": map[string]any{"number": int64(5001)}}}}}
	}
	create(t, kube.VirtualServices, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "mlmodel-virtualservice"},
		"spec": map[string]any{"hosts": []any{"*"}, "gateways": []any{"mlmodel-gateway"}, "http": []any{
			headerRoute("blue"), headerRoute("green"),
			map[string]any{"route": []any{
				map[string]any{"destination": map[string]any{"host": "model-svc-green"}, "weight": int64(100)},
				map[string]any{"destination": map[string]any{"host": "model-svc-blue"}, "weight": int64(0)}}},
		}}})
	st, err := f.cl.Status(ctx, f.cfg("Blue_0", ""))
	if err != nil {
		t.Fatal(err)
	}
	if st.Weights != (summary.Weights{Green: 100}) || len(st.Routes) != 2 || st.Images.Blue != imgB {
		t.Fatalf("status of the hand-written setup: %+v", st)
	}
	f.stage("Blue_50", imgB)
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	var names []string
	for _, r := range routes {
		name, _, _ := unstructured.NestedString(r.(map[string]any), "name")
		names = append(names, name)
	}
	if strings.Join(names, ",") != "mlcanary-blue,mlcanary-green,mlcanary-default" {
		t.Errorf("routes after adopting: %v", names)
	}
	if routing, _ := f.live(); routing.Weights["green"] != 50 || routing.Weights["blue"] != 50 {
		t.Errorf("weights after Blue_50: %v", routing.Weights)
	}
}

func create(t *testing.T, gvr schema.GroupVersionResource, ns string, obj map[string]any) {
	t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	if _, err := env.Dynamic.Resource(gvr).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
}
