package ownership

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// TestResolveGateway: gateway references spelled as Istio resolves them.
func TestResolveGateway(t *testing.T) {
	for _, tc := range []struct{ ref, from, want string }{
		{"gw", "demo", "demo/gw"},
		{"./gw", "demo", "demo/gw"},
		{"istio-system/gw", "demo", "istio-system/gw"},
		{"gw.istio-system", "demo", "istio-system/gw"},
		{"gw.istio-system.svc.cluster.local", "demo", "istio-system/gw"},
		{"mesh", "demo", "mesh"},
	} {
		if got := ResolveGateway(tc.ref, tc.from); got != tc.want {
			t.Errorf("ResolveGateway(%q, %q) = %q, want %q", tc.ref, tc.from, got, tc.want)
		}
	}
}

// TestBindingOf: the VirtualService's role comes from the live object and the gateway input.
func TestBindingOf(t *testing.T) {
	vs := func(hosts, gateways []any, owned string) *unstructured.Unstructured {
		spec := map[string]any{}
		if hosts != nil {
			spec["hosts"] = hosts
		}
		if gateways != nil {
			spec["gateways"] = gateways
		}
		u := vsObject("demo", "mlmodel-virtualservice", spec)
		if owned != "" {
			u.SetAnnotations(map[string]string{routing.OwnedGatewaysAnnotation: owned})
		}
		return u
	}
	own := routing.Binding{Gateway: "mlmodel-gateway", OwnGateway: true}
	ext := routing.Binding{Gateway: "istio-system/public-gateway"}
	cases := []struct {
		name    string
		gateway string
		live    *unstructured.Unstructured
		want    routing.Binding
	}{
		{"new, bare name", "mlmodel-gateway", nil, own},
		{"new, NAMESPACE/NAME", "istio-system/public-gateway", nil, ext},
		{"delegate", "mlmodel-gateway", vs(nil, nil, ""), routing.Binding{Delegate: true}},
		{"delegate, NAMESPACE/NAME", "istio-system/public-gateway", vs([]any{}, nil, ""), routing.Binding{Delegate: true}},
		{"bound to ours", "mlmodel-gateway", vs([]any{"*"}, []any{"mlmodel-gateway"}, ""), own},
		{"bound to ours, qualified", "mlmodel-gateway", vs([]any{"*"}, []any{"demo/mlmodel-gateway", "mesh"}, ""), own},
		{"bound to ours, legacy spelling", "mlmodel-gateway", vs([]any{"*"}, []any{"mlmodel-gateway.demo"}, ""), own},
		{"bound to the platform's, named", "istio-system/public-gateway", vs([]any{"a.example.com"}, []any{"istio-system/public-gateway"}, ""), ext},
		{"bound to the platform's, legacy spelling", "istio-system/public-gateway", vs([]any{"a.example.com"}, []any{"public-gateway.istio-system"}, ""), ext},
		{"input changed since mlcanary bound it", "new-gateway", vs([]any{"*"}, []any{"mlmodel-gateway"}, "mlmodel-gateway"), routing.Binding{Gateway: "new-gateway", OwnGateway: true}},
		{"bound elsewhere", "mlmodel-gateway", vs([]any{"a.example.com"}, []any{"istio-system/public-gateway"}, ""), routing.Binding{Elsewhere: []string{"istio-system/public-gateway"}}},
		{"bound to a gateway of that name elsewhere", "mlmodel-gateway", vs([]any{"a.example.com"}, []any{"other/mlmodel-gateway"}, ""), routing.Binding{Elsewhere: []string{"other/mlmodel-gateway"}}},
		{"the mesh", "mlmodel-gateway", vs([]any{"model-svc-green"}, nil, ""), routing.Binding{Elsewhere: []string{"mesh"}}},
	}
	for _, tc := range cases {
		c := config.Default()
		c.Namespace, c.Gateway = "demo", tc.gateway
		if got := BindingOf(&c, tc.live); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestBindKeepsTheLiveBinding: a delegate gets no hosts or gateways; one bound elsewhere gets back
// exactly its own; mlcanary's binding is left as rendered.
func TestBindKeepsTheLiveBinding(t *testing.T) {
	rendered := func() *unstructured.Unstructured {
		u := vsObject("demo", "mlmodel-virtualservice", map[string]any{"hosts": []any{"*"}, "gateways": []any{"mlmodel-gateway"}})
		u.SetAnnotations(map[string]string{routing.OwnedHostsAnnotation: "*", routing.OwnedGatewaysAnnotation: "mlmodel-gateway", "mlcanary.io/stage": "Blue_0"})
		return u
	}
	d := rendered()
	Bind(routing.Binding{Delegate: true}, d, vsObject("demo", "mlmodel-virtualservice", map[string]any{}))
	if _, found := d.Object["spec"].(map[string]any)["hosts"]; found || len(d.GetAnnotations()) != 1 {
		t.Errorf("delegate: %v %v", d.Object["spec"], d.GetAnnotations())
	}
	e := rendered()
	live := vsObject("demo", "mlmodel-virtualservice", map[string]any{"hosts": []any{"a.example.com"}, "gateways": []any{"istio-system/public-gateway"}})
	Bind(routing.Binding{Elsewhere: []string{"istio-system/public-gateway"}}, e, live)
	if !reflect.DeepEqual(e.Object["spec"], live.Object["spec"]) {
		t.Errorf("elsewhere: %v", e.Object["spec"])
	}
	o := rendered()
	Bind(routing.Binding{Gateway: "mlmodel-gateway", OwnGateway: true}, o, live)
	if !reflect.DeepEqual(o.Object, rendered().Object) {
		t.Errorf("own: %v", o.Object)
	}
}
