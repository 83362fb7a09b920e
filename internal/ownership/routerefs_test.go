package ownership

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

func obj(kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": kind,
		"metadata": map[string]any{"namespace": ns, "name": name}, "spec": spec}}
}

// TestGatewayRouteReferences: Gateway API routes keep a version through a backendRef or a
// requestMirror filter naming its Service (kind Service, core group, its namespace explicit or the
// route's own); a backendRef of another kind, group or namespace keeps nothing. (The test API
// server has no Gateway API CRDs; the engine's read of them is the same paged list as for
// Ingresses, which TestIngressRouteKeepsBlue runs against the API server.)
func TestGatewayRouteReferences(t *testing.T) {
	c := config.Default()
	c.Namespace = "demo"
	ref := func(name string) map[string]any { return map[string]any{"name": name, "port": int64(5001)} }
	rules := func(r ...any) map[string]any { return map[string]any{"rules": r} }
	cases := []struct {
		name  string
		route *unstructured.Unstructured
		want  string // fmt of the references, "map[]" for none
	}{
		{"HTTPRoute backendRef, same namespace", obj("HTTPRoute", "demo", "legacy", rules(map[string]any{"backendRefs": []any{ref("model-svc-blue")}})),
			"map[blue:[route rules[0] of HTTPRoute demo/legacy]]"},
		{"named rule, explicit kind and namespace, from another namespace", obj("HTTPRoute", "team", "x", rules(
			map[string]any{"name": "canary", "backendRefs": []any{map[string]any{"kind": "Service", "group": "", "name": "model-svc-green", "namespace": "demo"}}})),
			"map[green:[route canary of HTTPRoute team/x]]"},
		{"requestMirror filter of the rule", obj("HTTPRoute", "demo", "shadow", rules(map[string]any{"backendRefs": []any{ref("other")},
			"filters": []any{map[string]any{"type": "RequestMirror", "requestMirror": map[string]any{"backendRef": ref("model-svc-blue")}}}})),
			"map[blue:[route rules[0] of HTTPRoute demo/shadow (as a mirror)]]"},
		{"requestMirror filter of a backendRef", obj("HTTPRoute", "demo", "shadow", rules(map[string]any{"backendRefs": []any{map[string]any{"name": "other",
			"filters": []any{map[string]any{"type": "RequestMirror", "requestMirror": map[string]any{"backendRef": ref("model-svc-blue")}}}}}})),
			"map[blue:[route rules[0] of HTTPRoute demo/shadow (as a mirror)]]"},
		{"GRPCRoute second rule", obj("GRPCRoute", "demo", "grpc", rules(map[string]any{"backendRefs": []any{ref("x")}}, map[string]any{"backendRefs": []any{ref("model-svc-blue")}})),
			"map[blue:[route rules[1] of GRPCRoute demo/grpc]]"},
		{"TCPRoute", obj("TCPRoute", "demo", "raw", rules(map[string]any{"backendRefs": []any{ref("model-svc-green")}})),
			"map[green:[route rules[0] of TCPRoute demo/raw]]"},
		{"short name from another namespace is that namespace's", obj("HTTPRoute", "team", "x", rules(map[string]any{"backendRefs": []any{ref("model-svc-blue")}})), "map[]"},
		{"another kind", obj("HTTPRoute", "demo", "x", rules(map[string]any{"backendRefs": []any{map[string]any{"kind": "ServiceImport", "group": "multicluster.x-k8s.io", "name": "model-svc-blue"}}})), "map[]"},
	}
	for _, tc := range cases {
		if got := fmt.Sprint(GatewayRouteReferences(&c, tc.route)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
