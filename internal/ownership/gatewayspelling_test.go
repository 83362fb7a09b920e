package ownership

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestGatewaySpellingsAreOneBinding: a live gateway naming, in any spelling Istio resolves the
// same way (name.ns, name.ns.svc.cluster.local, ./name, a bare name of the VirtualService's
// namespace), the Gateway mlcanary binds to stays as its owner spelled it, and no second entry is
// added; a gateway naming another Gateway is kept beside it; one mlcanary wrote before and no
// longer wants goes.
func TestGatewaySpellingsAreOneBinding(t *testing.T) {
	vs := func(ns string, gws ...any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"namespace": ns, "name": "vs"}, "spec": map[string]any{"gateways": gws}}}
	}
	for _, tc := range []struct {
		desired string
		live    []any
		wasOurs []string
		want    string
	}{
		{"istio-system/public-gateway", []any{"public-gateway.istio-system"}, nil, "[public-gateway.istio-system]"},
		{"istio-system/public-gateway", []any{"public-gateway.istio-system.svc.cluster.local"}, nil, "[public-gateway.istio-system.svc.cluster.local]"},
		{"demo/mlmodel-gateway", []any{"mlmodel-gateway"}, nil, "[mlmodel-gateway]"},
		{"demo/mlmodel-gateway", []any{"./mlmodel-gateway"}, nil, "[./mlmodel-gateway]"},
		{"mlmodel-gateway", []any{"demo/mlmodel-gateway"}, nil, "[demo/mlmodel-gateway]"},
		{"istio-system/public-gateway", []any{"mesh", "public-gateway.istio-system"}, nil, "[public-gateway.istio-system mesh]"},
		{"istio-system/public-gateway", []any{"other.istio-system"}, nil, "[istio-system/public-gateway other.istio-system]"},
		{"istio-system/public-gateway", []any{"mlmodel-gateway"}, []string{"mlmodel-gateway"}, "[istio-system/public-gateway]"},
	} {
		desired := vs("demo", tc.desired)
		keepForeignGateways(desired, vs("demo", tc.live...), tc.wasOurs)
		got, _, _ := unstructured.NestedStringSlice(desired.Object, "spec", "gateways")
		if fmt.Sprint(got) != tc.want {
			t.Errorf("desired %s, live %v: %v, want %s", tc.desired, tc.live, got, tc.want)
		}
	}
}
