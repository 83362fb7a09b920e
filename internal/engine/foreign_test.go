package engine_test

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestForeignListEntriesSurvive: server-side apply replaces whole lists in Istio's CRDs, so an
// HTTPS server on the Gateway, a platform gateway on the VirtualService, and a port on a Service
// that someone else added must be merged back in, and must not make a re-run write. (A host added
// next to mlcanary's `*` would be a duplicate Istio rejects: TestBrownfieldIstioRules.)
func TestForeignListEntriesSurvive(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // Blue_0 (green imgA, blue imgB)
	applyAs(t, "platform", kube.Gateways, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": "mlmodel-gateway"},
		"spec": map[string]any{"servers": []any{
			map[string]any{"port": map[string]any{"number": int64(80), "name": "http", "protocol": "HTTP"}, "hosts": []any{"*"}},
			map[string]any{"port": map[string]any{"number": int64(443), "name": "https", "protocol": "HTTPS"}, "hosts": []any{"model.example.com"},
				"tls": map[string]any{"mode": "SIMPLE", "credentialName": "model-cert"}}}}})
	applyAs(t, "platform", kube.VirtualServices, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "mlmodel-virtualservice"},
		"spec":     map[string]any{"gateways": []any{"mlmodel-gateway", "istio-system/public-gateway"}}})
	applyAs(t, "platform", kube.Services, f.ns, map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "model-svc-blue"},
		"spec":     map[string]any{"ports": []any{map[string]any{"name": "metrics", "port": int64(9090), "protocol": "TCP"}}}})
	f.rec.reset()
	f.stage("Blue_0", imgB)
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("re-run after foreign list entries wrote %v", writes)
	}
	f.stage("Blue_0", imgC) // writes the VirtualService twice and blue's Deployment
	f.stage("Blue_50", imgC)
	gw := get(t, kube.Gateways, f.ns, "mlmodel-gateway")
	if servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers"); len(servers) != 2 {
		t.Errorf("Gateway servers after Blue_50: %v", servers)
	}
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	hosts, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "hosts")
	gws, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "gateways")
	if strings.Join(hosts, ",") != "*" || strings.Join(gws, ",") != "mlmodel-gateway,istio-system/public-gateway" {
		t.Errorf("VirtualService hosts %v gateways %v", hosts, gws)
	}
	svc := get(t, kube.Services, f.ns, "model-svc-blue")
	if ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports"); len(ports) != 2 {
		t.Errorf("Service ports: %v", ports)
	}
}

// TestForeignRouteToAVersion: a route someone else owns that sends traffic to blue cannot be
// unrouted by mlcanary, so stages that would delete or replace blue refuse before writing, and
// Rollback (the failure path) still returns traffic to green but keeps blue.
func TestForeignRouteToAVersion(t *testing.T) {
	f := newFixture(t)
	f.reach(states[7].path) // Blue_Green
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	qa := map[string]any{"name": "qa-blue", "match": []any{map[string]any{"headers": map[string]any{"x-qa": map[string]any{"exact": "1"}}}},
		"route": []any{map[string]any{"destination": map[string]any{"host": "model-svc-blue"}}}}
	withQA := append(append([]any{}, routes[:2]...), qa, routes[2])
	applyAs(t, "qa-team", kube.VirtualServices, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "mlmodel-virtualservice"}, "spec": map[string]any{"http": withQA}})
	for _, tc := range []struct{ stage, image string }{{"Green_100", ""}, {"Blue_0", imgC}} {
		f.rec.reset()
		_, err := f.try(tc.stage, tc.image)
		if err == nil || !strings.Contains(err.Error(), "route qa-blue of VirtualService "+f.ns+"/mlmodel-virtualservice is not mlcanary's and sends traffic to blue") {
			t.Errorf("%s with a foreign route to blue: %v", tc.stage, err)
		}
		if _, writes := f.rec.counts(); len(writes) != 0 {
			t.Errorf("%s wrote %v", tc.stage, writes)
		}
	}
	res := f.stage("Rollback", "")
	if res.Weights.Green != 100 || res.Images.Blue == "" || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "blue was kept: route qa-blue") {
		t.Errorf("Rollback with a foreign route to blue: %+v", res)
	}
}

// TestScaledToZeroIsNotReady: a version scaled to 0 replicas answers nothing, so no stage routes to it.
func TestScaledToZeroIsNotReady(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // Blue_0
	applyAs(t, "autoscaler", kube.Deployments, f.ns, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "model-blue"}, "spec": map[string]any{"replicas": int64(0)}})
	c := f.cfg("Blue_50", "")
	c.Timeout = 300 * time.Millisecond
	f.rec.reset()
	_, err := f.run(c)
	if err == nil || !strings.Contains(err.Error(), "it is scaled to 0 replicas, so nothing would answer") {
		t.Errorf("Blue_50 onto a blue scaled to 0: %v", err)
	}
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("wrote %v", writes)
	}
}

// TestSpecChangeOfARoutedVersionUnroutesFirst: a changed pull secret replaces blue's pods just as
// a new image does, so blue loses its traffic before its Deployment changes (the recorder checks).
func TestSpecChangeOfARoutedVersionUnroutesFirst(t *testing.T) {
	f := newFixture(t)
	f.reach(states[5].path) // Blue_50
	c := f.cfg("Blue_0", imgB)
	c.ImagePullSecret = "acr-pull"
	if _, err := f.run(c); err != nil {
		t.Fatal(err)
	}
	d := get(t, kube.Deployments, f.ns, "model-blue")
	if s, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "imagePullSecrets"); len(s) != 1 {
		t.Errorf("imagePullSecrets: %v", s)
	}
}
