package ownership

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// TestServiceVersion: every spelling that reaches the Service from the VirtualService's namespace
// resolves to its version; a short name in another namespace names that namespace's Service.
func TestServiceVersion(t *testing.T) {
	c := config.Default()
	c.Namespace = "demo"
	cases := []struct {
		from, host string
		want       config.Version // "" = not ours
	}{
		{"demo", "model-svc-blue", config.Blue},
		{"demo", "MODEL-SVC-BLUE", config.Blue},
		{"demo", "model-svc-blue.", config.Blue},
		{"demo", "model-svc-blue.demo", config.Blue},
		{"demo", "model-svc-blue.demo.svc", config.Blue},
		{"demo", "model-svc-blue.demo.svc.cluster.local", config.Blue},
		{"demo", "model-svc-blue.demo.svc.cluster.local.", config.Blue},
		{"demo", "Model-Svc-Green.Demo.SVC.Cluster.Local", config.Green},
		{"demo", "model-svc-blue.demo.svc.corp.internal", config.Blue}, // another cluster domain
		{"other", "model-svc-blue.demo", config.Blue},
		{"other", "model-svc-blue.demo.svc", config.Blue},
		{"other", "model-svc-blue.demo.svc.cluster.local", config.Blue},
		{"other", "model-svc-blue", ""}, // other/model-svc-blue
		{"demo", "model-svc-blue.other", ""},
		{"demo", "model-svc-blue.other.svc.cluster.local", ""},
		{"demo", "model-svc-blue.demo.example.com", ""},
		{"demo", "model-svc-blue.demo.svc..", ""},
		{"demo", "model-svc-bluex", ""},
		{"demo", "", ""},
		{"demo", "*", ""},
	}
	for _, tc := range cases {
		got, ok := ServiceVersion(&c, tc.from, tc.host)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("ServiceVersion(from %s, %q) = %q, %v; want %q", tc.from, tc.host, got, ok, tc.want)
		}
	}
}

func vsObject(ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": render.IstioAPIVersion, "kind": "VirtualService",
		"metadata": map[string]any{"namespace": ns, "name": name}, "spec": spec}}
}

func to(host string) map[string]any {
	return map[string]any{"destination": map[string]any{"host": host}}
}

// TestForeignReferences: http, tcp and tls destinations and mirrors of every VirtualService count;
// in mlcanary's own VirtualService its own routes' destinations do not, a mirror added to them does.
func TestForeignReferences(t *testing.T) {
	c := config.Default()
	c.Namespace = "demo"
	own := vsObject("demo", c.VirtualService, map[string]any{"http": []any{
		map[string]any{"name": "mlcanary-blue", "route": []any{to("model-svc-blue")}},
		map[string]any{"name": "mlcanary-default", "route": []any{to("model-svc-green")}, "mirror": map[string]any{"host": "model-svc-blue"}},
	}})
	own.SetAnnotations(map[string]string{routing.OwnedRoutesAnnotation: "mlcanary-blue,mlcanary-default"}) // recorded: a name alone is not ownership
	internal := vsObject("demo", "scorer-internal", map[string]any{"http": []any{
		map[string]any{"name": "blue-by-header", "route": []any{to("model-svc-blue")}},
		map[string]any{"route": []any{to("model-svc-green")}, "mirrors": []any{to("model-svc-blue.demo.svc")}},
	}})
	tcp := vsObject("team", "raw", map[string]any{"tcp": []any{map[string]any{"route": []any{to("model-svc-blue.demo.svc.cluster.local")}}},
		"tls": []any{map[string]any{"route": []any{to("model-svc-green.demo")}}}})
	theirOwn := vsObject("team", "their-scorer", map[string]any{"http": []any{map[string]any{"route": []any{to("model-svc-blue")}}}})
	got := ForeignReferences(&c, own, internal, tcp, theirOwn)
	want := map[config.Version]string{
		config.Blue: "[route mlcanary-default of VirtualService demo/mlmodel-virtualservice (as a mirror) route blue-by-header of VirtualService demo/scorer-internal " +
			"route http[1] of VirtualService demo/scorer-internal (as a mirror) route tcp[0] of VirtualService team/raw]",
		config.Green: "[route http[1] of VirtualService demo/scorer-internal route tls[0] of VirtualService team/raw]",
	}
	for v, w := range want {
		if s := fmt.Sprint(got[v]); s != w {
			t.Errorf("%s:\n got %s\nwant %s", v, s, w)
		}
	}
}
