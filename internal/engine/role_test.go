package engine_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// gatewaysIn lists the names of the Gateways in ns.
func gatewaysIn(t *testing.T, ns string) []string {
	t.Helper()
	l, err := env.Dynamic.Resource(kube.Gateways).Namespace(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range l.Items {
		names = append(names, g.GetName())
	}
	return names
}

// binding reads the VirtualService's hosts and gateways (nil when absent).
func binding(t *testing.T, ns string) (hosts, gateways []string, found [2]bool) {
	t.Helper()
	vs := get(t, kube.VirtualServices, ns, "mlmodel-virtualservice")
	hosts, found[0], _ = unstructured.NestedStringSlice(vs.Object, "spec", "hosts")
	gateways, found[1], _ = unstructured.NestedStringSlice(vs.Object, "spec", "gateways")
	return hosts, gateways, found
}

// platformGateway creates a shared Gateway another team owns in its own namespace.
func platformGateway(t *testing.T, f *fixture) (ns string, gw *unstructured.Unstructured) {
	t.Helper()
	ns = otherNamespace(t, f, "istio-system")
	applyAs(t, "platform", kube.Gateways, ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": "public-gateway"},
		"spec": map[string]any{"selector": map[string]any{"istio": "ingressgateway"},
			"servers": []any{map[string]any{"port": map[string]any{"number": int64(80), "name": "http", "protocol": "HTTP"}, "hosts": []any{"*"}}}}})
	return ns, get(t, kube.Gateways, ns, "public-gateway")
}

func sameObject(t *testing.T, before *unstructured.Unstructured) {
	t.Helper()
	after := get(t, schemaOf(before), before.GetNamespace(), before.GetName())
	if after.GetResourceVersion() != before.GetResourceVersion() || !reflect.DeepEqual(after.Object["spec"], before.Object["spec"]) {
		t.Errorf("%s %s/%s was changed: %v", before.GetKind(), before.GetNamespace(), before.GetName(), after.Object["spec"])
	}
}

func schemaOf(u *unstructured.Unstructured) schema.GroupVersionResource {
	if u.GetKind() == "Gateway" {
		return kube.Gateways
	}
	return kube.VirtualServices
}

// TestDelegateStaysADelegate is issue #8's kind 8 for a delegate: the VirtualService has no hosts
// and no gateways, and a root VirtualService in another namespace hands it requests. Every stage
// updates its routes only — no hosts, no gateways, no Gateway — and the root is never touched.
func TestDelegateStaysADelegate(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	d.Gateway = nil
	spec := d.VirtualService["spec"].(map[string]any)
	delete(spec, "hosts")
	delete(spec, "gateways")
	d.apply(t, f)
	root := otherNamespace(t, f, "edge")
	applyAs(t, "platform", kube.VirtualServices, root, virtualService("edge-root", map[string]any{
		"hosts": []any{"model.example.com"}, "gateways": []any{"edge-gateway"},
		"http": []any{map[string]any{"match": []any{map[string]any{"uri": map[string]any{"prefix": "/"}}},
			"delegate": map[string]any{"name": "mlmodel-virtualservice", "namespace": f.ns}}}}))
	rootBefore := get(t, kube.VirtualServices, root, "edge-root")
	note := "VirtualService " + f.ns + "/mlmodel-virtualservice is a delegate (no hosts): mlcanary updates its routes only, adds no hosts or gateways and creates no Gateway"
	prev := ""
	for _, s := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_50", ""}, {"Blue_50", ""}, {"Blue_100", ""}, {"Blue_Green", ""}, {"Green_100", ""}} {
		f.rec.reset()
		res := f.stage(s.stage, s.image)
		if !slicesContain(res.Notes, note) {
			t.Errorf("%s notes %q, want %q", s.stage, res.Notes, note)
		}
		hosts, gateways, found := binding(t, f.ns)
		if found[0] || found[1] {
			t.Fatalf("after %s the delegate has hosts %v and gateways %v", s.stage, hosts, gateways)
		}
		if gws := gatewaysIn(t, f.ns); len(gws) != 0 {
			t.Errorf("after %s Gateways in the namespace: %v", s.stage, gws)
		}
		if _, writes := f.rec.counts(); s.stage == prev && len(writes) != 0 {
			t.Errorf("re-run of %s wrote %v", s.stage, writes)
		}
		prev = s.stage
	}
	routing, images := f.live()
	if routing.Weights[config.Green] != 100 || routing.References(config.Blue) || images[config.Green] != imgB {
		t.Errorf("after Green_100: %+v %v", routing, images)
	}
	sameObject(t, rootBefore)
}

// TestBindToAGatewayInAnotherNamespace: --gateway NAMESPACE/NAME binds the VirtualService to that
// existing Gateway — on an empty namespace and on issue #8's D0 bound to it by hand — creating no
// Gateway in the namespace and never touching the platform's.
func TestBindToAGatewayInAnotherNamespace(t *testing.T) {
	for _, start := range []string{"empty namespace", "D0 bound to the platform gateway"} {
		t.Run(start, func(t *testing.T) {
			f := newFixture(t)
			pns, pgw := platformGateway(t, f)
			ref := pns + "/public-gateway"
			if start != "empty namespace" {
				d := newD0()
				d.Gateway = nil
				d.VirtualService["spec"].(map[string]any)["gateways"] = []any{ref}
				d.apply(t, f)
			}
			run := func(stage, image string) {
				t.Helper()
				c := f.cfg(stage, image)
				c.Gateway = ref
				if _, err := f.run(c); err != nil {
					t.Fatalf("%s --gateway %s: %v", stage, ref, err)
				}
				if _, gateways, _ := binding(t, f.ns); !reflect.DeepEqual(gateways, []string{ref}) {
					t.Errorf("after %s gateways %v, want [%s]", stage, gateways, ref)
				}
				if gws := gatewaysIn(t, f.ns); len(gws) != 0 {
					t.Errorf("after %s Gateways in the namespace: %v", stage, gws)
				}
			}
			if start == "empty namespace" {
				run("Blue_0", imgA)
				run("Blue_100", "")
				run("Blue_Green", "")
				run("Green_100", "")
			}
			run("Blue_0", imgB)
			run("Blue_50", "")
			f.rec.reset()
			run("Blue_50", "")
			if _, writes := f.rec.counts(); len(writes) != 0 {
				t.Errorf("re-run of Blue_50 wrote %v", writes)
			}
			run("Rollback", "")
			sameObject(t, pgw)
		})
	}
}

// TestBoundGatewayMissingOrUnreadable: a NAMESPACE/NAME Gateway that does not exist refuses the
// stage before any write (traffic through it would reach nothing; Rollback only notes it); one the
// credentials may not read is not an error, only a note.
func TestBoundGatewayMissingOrUnreadable(t *testing.T) {
	f := newFixture(t)
	pns, _ := platformGateway(t, f)
	c := f.cfg("Blue_0", imgA)
	c.Gateway = pns + "/no-such-gateway"
	f.rec.reset()
	_, err := f.run(c)
	var pe *plan.PreconditionError
	want := "Blue_0: Gateway " + c.Gateway + " does not exist, so VirtualService " + f.ns + "/mlmodel-virtualservice bound to it would receive no traffic through it"
	if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Blue_0 bound to a missing Gateway:\n got %v\nwant %s…", err, want)
	}
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("refused but wrote %v", writes)
	}

	// The documented namespace Role cannot read Gateways in the platform's namespace.
	cl := documentedRoleClient(t, f)
	c.Gateway = pns + "/public-gateway"
	res, err := cl.Stage(context.Background(), c, t.Logf)
	if err != nil {
		t.Fatalf("Blue_0 bound to an unreadable Gateway: %v", err)
	}
	if note := "Gateway " + c.Gateway + " could not be read with these credentials, so it was not checked that it exists"; !slicesContain(res.Notes, note) {
		t.Errorf("notes %q, want %q", res.Notes, note)
	}
	if _, gateways, _ := binding(t, f.ns); !reflect.DeepEqual(gateways, []string{c.Gateway}) {
		t.Errorf("gateways %v", gateways)
	}
}

// TestBoundElsewhereGetsNoGatewayAdded: a live VirtualService bound only to gateways that are not
// the gateway input and that mlcanary never wrote — a shared platform gateway, or none at all (the
// mesh) — keeps that binding and its hosts; mlcanary adds and creates no Gateway.
func TestBoundElsewhereGetsNoGatewayAdded(t *testing.T) {
	cases := []struct {
		name     string
		hosts    []any
		gateways []any // nil: the field is left out (the mesh)
		note     string
	}{
		{"platform gateway", []any{"model.example.com"}, []any{"PNS/public-gateway"}, "is bound to PNS/public-gateway, not to mlmodel-gateway"},
		{"platform gateway and mesh", []any{"model.example.com", "model-svc-green"}, []any{"PNS/public-gateway", "mesh"}, "is bound to PNS/public-gateway, mesh, not to mlmodel-gateway"},
		{"the mesh only", []any{"model-svc-green"}, nil, "is bound to mesh, not to mlmodel-gateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			pns, pgw := platformGateway(t, f)
			d := newD0()
			d.Gateway = nil
			spec := d.VirtualService["spec"].(map[string]any)
			spec["hosts"] = tc.hosts
			delete(spec, "gateways")
			var wantGateways []string
			for _, g := range tc.gateways {
				g := strings.ReplaceAll(g.(string), "PNS", pns)
				wantGateways = append(wantGateways, g)
				spec["gateways"] = append(toAnyOr(spec["gateways"]), g)
			}
			d.apply(t, f)
			note := "VirtualService " + f.ns + "/mlmodel-virtualservice " + strings.ReplaceAll(tc.note, "PNS", pns)
			for _, s := range []struct{ stage, image string }{{"Rollback", ""}, {"Blue_0", imgB}, {"Blue_50", ""}} {
				res := f.stage(s.stage, s.image)
				if !slicesContain(res.Notes, note) && !strings.Contains(strings.Join(res.Notes, "\n"), note) {
					t.Errorf("%s notes %q, want one containing %q", s.stage, res.Notes, note)
				}
				hosts, gateways, _ := binding(t, f.ns)
				if !reflect.DeepEqual(toAny(hosts), tc.hosts) || !reflect.DeepEqual(gateways, wantGateways) {
					t.Errorf("after %s hosts %v gateways %v, want %v %v", s.stage, hosts, gateways, tc.hosts, wantGateways)
				}
				if gws := gatewaysIn(t, f.ns); len(gws) != 0 {
					t.Errorf("after %s Gateways in the namespace: %v", s.stage, gws)
				}
			}
			if routing, _ := f.live(); routing.Weights[config.Blue] != 50 {
				t.Errorf("Blue_50 routing %+v", routing)
			}
			sameObject(t, pgw)
		})
	}
}

func toAnyOr(v any) []any {
	s, _ := v.([]any)
	return s
}
