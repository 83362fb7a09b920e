package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/golden"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// Issue #8, kind 1: "Istio's rules" are Istio's rules. A foreign route Istio admits blocks no stage;
// what mlcanary writes, merged with what others own, is what Istio admits, or the stage refuses
// before its first write naming the object, the entry and Istio's rule. Each case's VirtualService
// and Gateway as they are on the cluster afterwards are the golden files testdata/istio-*.json,
// which tools/istiovalidate (linking Istio's own validation code) checks Istio admits.

func foreignRoute(name string, match map[string]any, dests ...any) map[string]any {
	return map[string]any{"name": name, "match": []any{match}, "route": dests}
}

func weightedTo(host string, w int64) map[string]any {
	return map[string]any{"destination": map[string]any{"host": host}, "weight": w}
}

// withRoute puts r in front of D0's default route (the last one).
func (d *d0) withRoute(r map[string]any) {
	spec := d.VirtualService["spec"].(map[string]any)
	http := spec["http"].([]any)
	spec["http"] = append(append(append([]any{}, http[:len(http)-1]...), r), http[len(http)-1])
}

// istioState is the golden form of what a case leaves on the cluster: the VirtualService and the
// Gateway (kind, name and spec; the namespace differs per test).
func istioState(t *testing.T, f *fixture) string {
	t.Helper()
	var out []any
	for _, k := range []struct{ kind, name string }{{"VirtualService", "mlmodel-virtualservice"}, {"Gateway", "mlmodel-gateway"}} {
		gvr := kube.VirtualServices
		if k.kind == "Gateway" {
			gvr = kube.Gateways
		}
		u := get(t, gvr, f.ns, k.name)
		out = append(out, map[string]any{"apiVersion": u.GetAPIVersion(), "kind": k.kind,
			"metadata": map[string]any{"name": k.name, "namespace": "demo"}, "spec": u.Object["spec"]})
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data) + "\n"
}

// stageWith runs stage with cfg changed by opts and returns the writes it sent and its error.
func (f *fixture) stageWith(stage, image string, opts func(*config.Config)) ([]string, error) {
	f.t.Helper()
	c := f.cfg(stage, image)
	if opts != nil {
		opts(&c)
	}
	f.rec.reset()
	_, err := f.run(c)
	_, writes := f.rec.counts()
	return writes, err
}

func TestBrownfieldIstioRules(t *testing.T) {
	explain := map[string]any{"uri": map[string]any{"prefix": "/explain"}}
	cases := []struct {
		name  string
		setup func(*d0)
		opts  func(*config.Config)
		check func(t *testing.T, f *fixture)
	}{{
		// istioctl validate accepts weights 2 and 1 (Istio ≥ 1.15); mlcanary keeps the route as it is.
		name: "foreign-weights-2-1",
		setup: func(d *d0) {
			d.withRoute(foreignRoute("explainer-split", explain, weightedTo("explainer-a", 2), weightedTo("explainer-b", 1)))
		},
	}, {
		// Istio admits any RFC 7230 header name and, on a gateway, JWT claims.
		name: "foreign-headers",
		setup: func(d *d0) {
			d.withRoute(foreignRoute("legacy", map[string]any{"headers": map[string]any{"X-Legacy-Client": map[string]any{"exact": "1"}}}, weightedTo("model-svc-green", 100)))
			d.withRoute(foreignRoute("gold", map[string]any{"headers": map[string]any{"@request.auth.claims.tier": map[string]any{"exact": "gold"}}}, weightedTo("model-svc-green", 100)))
		},
	}, {
		// The VirtualService's own hosts: --hosts names them, and nothing overlapping is added.
		name:  "hosts-model-example-com",
		setup: func(d *d0) { d.VirtualService["spec"].(map[string]any)["hosts"] = []any{"model.example.com"} },
		opts:  func(c *config.Config) { c.Hosts = []string{"model.example.com"} },
		check: func(t *testing.T, f *fixture) {
			vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
			if hosts, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "hosts"); strings.Join(hosts, ",") != "model.example.com" {
				t.Errorf("hosts %v, want [model.example.com]", hosts)
			}
		},
	}, {
		// Someone else's server is named http on 80; mlcanary's on 8080 is named http-8080.
		name: "gateway-port-8080",
		opts: func(c *config.Config) { c.GatewayPort = 8080 },
		check: func(t *testing.T, f *fixture) {
			gw := get(t, kube.Gateways, f.ns, "mlmodel-gateway")
			servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers")
			var names []string
			for _, s := range servers {
				n, _, _ := unstructured.NestedString(s.(map[string]any), "port", "name")
				names = append(names, n)
			}
			if strings.Join(names, ",") != "http-8080,http" {
				t.Errorf("server names %v, want [http-8080 http]", names)
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			d := newD0()
			if tc.setup != nil {
				tc.setup(d)
			}
			d.apply(t, f)
			for _, s := range []struct{ stage, image string }{{"Rollback", ""}, {"Blue_0", imgB}, {"Blue_50", imgB}} {
				if _, err := f.stageWith(s.stage, s.image, tc.opts); err != nil {
					t.Fatalf("%s: %v", s.stage, err)
				}
				f.rec.assertSafe(t)
			}
			if routing, images := f.live(); routing.Weights[config.Blue] != 50 || images[config.Blue] != imgB {
				t.Errorf("after Blue_50: %v %v", routing, images)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
			golden.Assert(t, "istio-"+tc.name+".json", istioState(t, f))
		})
	}
}

// TestBrownfieldIstioRefusals: a merge Istio would reject refuses the stage before its first
// write, in one sentence naming the object, the entry and Istio's rule.
func TestBrownfieldIstioRefusals(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*d0)
		opts  func(*config.Config)
		want  string
	}{{
		name:  "host overlaps --hosts",
		setup: func(d *d0) { d.VirtualService["spec"].(map[string]any)["hosts"] = []any{"model.example.com"} },
		want: `Rollback: VirtualService NS/mlmodel-virtualservice would break Istio's validation rules: host "*" (--hosts) and host "model.example.com", which someone else set, overlap, ` +
			`and Istio rejects duplicate hosts (one matches the other): set --hosts to model.example.com or remove that host`,
	}, {
		name: "no free server name",
		setup: func(d *d0) {
			spec := d.Gateway["spec"].(map[string]any)
			spec["servers"] = append(spec["servers"].([]any), map[string]any{"port": map[string]any{"number": int64(9090), "name": "http-8080", "protocol": "HTTP"}, "hosts": []any{"*"}})
		},
		opts: func(c *config.Config) { c.GatewayPort = 8080 },
		want: `Rollback: Gateway NS/mlmodel-gateway would break Istio's validation rules: server "http-8080" on port 9090: port names in servers must be unique: duplicate name http-8080`,
	}, {
		name: "catch-all in front of mlcanary's default route",
		setup: func(d *d0) {
			d.withRoute(map[string]any{"name": "everything", "route": []any{weightedTo("legacy", 100)}})
		},
		want: `Rollback: route http[1] "everything" (no match → legacy) is not mlcanary's (it has a name of its own) and matches every request, so mlcanary's default route after it would never be used; give it a match or remove it`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			d := newD0()
			tc.setup(d)
			d.apply(t, f)
			before := istioState(t, f)
			writes, err := f.stageWith("Rollback", "", tc.opts)
			if want := strings.ReplaceAll(tc.want, "NS", f.ns); err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
			if len(writes) != 0 {
				t.Errorf("refused stage wrote %v", writes)
			}
			if after := istioState(t, f); after != before {
				t.Errorf("cluster changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
}
