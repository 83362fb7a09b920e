package engine_test

// Shadow_N's mirror on brownfield VirtualServices: the default route's mirror is mlcanary's only
// while it is recorded (mlcanary.io/owned-mirror) AND live still mirrors to blue's Service as
// Shadow_N wrote it; anything else there is someone else's, kept by every stage. (Cases from the
// break-it review of issue #11: S1, S2 and its held cases.)

import (
	"context"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
)

// defaultMirror reads the live default route's mirror host and share, and the mirror record.
func defaultMirror(t *testing.T, ns string) (host string, share int64, record string) {
	t.Helper()
	vs := get(t, kube.VirtualServices, ns, "mlmodel-virtualservice")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for _, r := range routes {
		m := r.(map[string]any)
		if m["match"] == nil {
			host, _, _ = unstructured.NestedString(m, "mirror", "host")
			share, _, _ = unstructured.NestedInt64(m, "mirrorPercentage", "value")
		}
	}
	return host, share, vs.GetAnnotations()["mlcanary.io/owned-mirror"]
}

// TestMirrorRecordGoesWithTheMirror: Shadow_10 records its mirror
// (mlcanary.io/owned-mirror); Blue_50 removes the mirror. The record must go with it: otherwise a
// mirror the platform team adds later on the default route (to its audit service) is read as
// mlcanary's and removed by the next stage, though the README says someone else's mirror "is kept
// as it is".
func TestMirrorRecordGoesWithTheMirror(t *testing.T) {
	f := newFixture(t)
	f.reach(states[8].path) // Shadow_10
	f.stage("Blue_50", "")
	if host, _, record := defaultMirror(t, f.ns); host != "" || record != "" {
		t.Errorf("after Blue_50: mirror %q, record %q; want neither", host, record)
	}
	editVS(t, f.ns, func(m map[string]any) {
		m["mirror"] = map[string]any{"host": "audit.tools.svc.cluster.local"}
		m["mirrorPercentage"] = map[string]any{"value": int64(5)}
	})
	f.stage("Blue_100", "")
	if host, share, _ := defaultMirror(t, f.ns); host != "audit.tools.svc.cluster.local" || share != 5 {
		t.Errorf("after Blue_100: the platform team's audit mirror became %q %d%%, want kept", host, share)
	}
}

// TestRepointedMirrorIsSomeoneElses: during Shadow_10 someone edits the default route's mirror
// (kubectl edit; the record stays, an annotation they do not know about). A mirror to another host,
// to a subset of blue or another port of blue's Service, or one with a `mirrors` list added, is no
// longer the one Shadow_N wrote: it is someone else's. Shadow_20 refuses before any write, naming
// it, and Blue_50 keeps it exactly (a mirror to blue stays a route to blue). Only a changed share
// (mirrorPercentage) leaves the mirror mlcanary's: Shadow_20 sets 20% and Blue_50 removes it.
func TestRepointedMirrorIsSomeoneElses(t *testing.T) {
	audit := map[string]any{"host": "audit.tools.svc.cluster.local"}
	for _, tc := range []struct {
		name   string
		mirror map[string]any
		ours   bool
	}{
		{"to an audit service", audit, false},
		{"to a subset of blue", map[string]any{"host": "model-svc-blue", "port": map[string]any{"number": int64(5001)}, "subset": "v2"}, false},
		{"to another port of blue", map[string]any{"host": "model-svc-blue", "port": map[string]any{"number": int64(9090)}}, false},
		{"only its share changed", nil, true},
	} {
		for _, next := range []string{"Shadow_20", "Blue_50"} {
			t.Run(tc.name+"/"+next, func(t *testing.T) {
				f := newFixture(t)
				f.reach(states[8].path) // Shadow_10
				editVS(t, f.ns, func(m map[string]any) {
					if tc.mirror != nil {
						m["mirror"] = tc.mirror
					}
					m["mirrorPercentage"] = map[string]any{"value": int64(5)}
				})
				before := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
				f.rec.reset()
				_, err := f.try(next, "")
				host, share, _ := defaultMirror(t, f.ns)
				switch {
				case tc.ours && next == "Shadow_20":
					if err != nil || host != "model-svc-blue" || share != 20 {
						t.Errorf("Shadow_20 over its own mirror with a changed share: %v, mirror %q %d%%", err, host, share)
					}
				case tc.ours:
					if err != nil || host != "" {
						t.Errorf("Blue_50 over its own mirror with a changed share: %v, mirror %q kept", err, host)
					}
				case next == "Shadow_20":
					if err == nil || !strings.Contains(err.Error(), "already has a mirror that is not mlcanary's (to "+tc.mirror["host"].(string)+";") {
						t.Errorf("Shadow_20 over someone else's mirror: %v, want a refusal naming it", err)
					}
					if _, writes := f.rec.counts(); len(writes) != 0 {
						t.Errorf("the refused Shadow_20 wrote %v", writes)
					}
				default:
					if err != nil {
						t.Fatalf("Blue_50: %v", err)
					}
					after := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
					if got, want := defaultRouteMirror(after), defaultRouteMirror(before); !reflect.DeepEqual(got, want) {
						t.Errorf("Blue_50 changed someone else's mirror:\n got %v\nwant %v", got, want)
					}
					c := f.cfg("Blue_50", "")
					if m := ownership.RoutingOf(&c, after).Mirror; m != 0 {
						t.Errorf("someone else's mirror read as mlcanary's %d%%", m)
					}
				}
			})
		}
	}
}

// defaultRouteMirror is the live default route's mirror fields.
func defaultRouteMirror(vs *unstructured.Unstructured) map[string]any {
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for _, r := range routes {
		if m := r.(map[string]any); m["match"] == nil {
			return map[string]any{"mirror": m["mirror"], "mirrorPercentage": m["mirrorPercentage"], "mirrors": m["mirrors"]}
		}
	}
	return nil
}

// TestForeignRouteMirrorKeptThroughShadow: another team's route (/explain, someone else's) mirrors
// 100% of its requests to an audit service. Shadow_10, its re-run (zero writes), Blue_50 and
// Rollback keep that route's mirror exactly, and the default route's mirror is mlcanary's only
// while shadowing.
func TestForeignRouteMirrorKeptThroughShadow(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // Blue_0 of the next release
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	explain := map[string]any{
		"name":   "explain",
		"match":  []any{map[string]any{"uri": map[string]any{"prefix": "/explain"}}},
		"route":  []any{map[string]any{"destination": map[string]any{"host": "explainer.tools.svc.cluster.local"}}},
		"mirror": map[string]any{"host": "audit.tools.svc.cluster.local"},
	}
	routes = append([]any{explain}, routes...)
	if err := unstructured.SetNestedSlice(vs.Object, routes, "spec", "http"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(f.ns).Update(context.Background(), vs, metav1.UpdateOptions{FieldManager: "platform"}); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
		routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
		for _, r := range routes {
			m := r.(map[string]any)
			if m["name"] == "explain" {
				if h, _, _ := unstructured.NestedString(m, "mirror", "host"); h != "audit.tools.svc.cluster.local" {
					t.Errorf("after %s: /explain mirrors to %q", stage, h)
				}
				return
			}
		}
		t.Errorf("after %s: the /explain route is gone", stage)
	}
	f.stage("Shadow_10", "")
	check("Shadow_10")
	if r, _ := f.live(); r.Mirror != 10 {
		t.Errorf("Shadow_10: mirror %d%%", r.Mirror)
	}
	f.rec.reset()
	f.stage("Shadow_10", "")
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("Shadow_10 re-run wrote %v", writes)
	}
	f.stage("Blue_50", "")
	check("Blue_50")
	if r, _ := f.live(); r.Mirror != 0 {
		t.Errorf("Blue_50 kept mirror %d%%", r.Mirror)
	}
	res := f.stage("Rollback", "")
	check("Rollback")
	if _, images := f.live(); images[config.Blue] != "" {
		t.Errorf("Rollback kept blue: %q", strings.Join(res.Notes, "; "))
	}
}

// TestShadowNeverMirrorsToAMissingService: blue's Deployment is ready but its Service is gone
// (deleted by hand or by a cleanup job; Services are cheap to delete and look unused at Blue_0, where
// no client sends blue traffic). The mirror's destination is that Service: "Blue must exist and be
// ready (make-before-break applies to the mirror destination too)". Shadow_10 must refuse or
// recreate the Service before it mirrors to it — never write a mirror to a host that does not exist.
func TestShadowNeverMirrorsToAMissingService(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // Blue_0 of the next release
	if err := env.Dynamic.Resource(kube.Services).Namespace(f.ns).Delete(context.Background(), "model-svc-blue", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := f.try("Shadow_10", "")
	host, _, _ := defaultMirror(t, f.ns)
	if _, svcErr := env.Dynamic.Resource(kube.Services).Namespace(f.ns).Get(context.Background(), "model-svc-blue", metav1.GetOptions{}); err == nil && host == "model-svc-blue" && svcErr != nil {
		t.Errorf("Shadow_10 mirrors to Service model-svc-blue, which does not exist (%v)", svcErr)
	}
}

// TestShadowOnADelegate: on a delegate VirtualService (no hosts, no gateways; a root
// in another namespace delegates to it) Shadow_10 writes the mirror on the delegate's default route
// only, re-runs with zero writes, and Blue_50 removes it; no hosts, gateways or Gateway appear.
func TestShadowOnADelegate(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	d.Gateway = nil
	spec := d.VirtualService["spec"].(map[string]any)
	delete(spec, "hosts")
	delete(spec, "gateways")
	d.apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Shadow_10", "")
	if r, _ := f.live(); r.Mirror != 10 {
		t.Errorf("Shadow_10 on a delegate: mirror %d%%", r.Mirror)
	}
	f.rec.reset()
	f.stage("Shadow_10", "")
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("re-run wrote %v", writes)
	}
	f.stage("Blue_50", "")
	if r, _ := f.live(); r.Mirror != 0 || r.Weights[config.Blue] != 50 {
		t.Errorf("Blue_50 on a delegate: %+v", r)
	}
	if hosts, gateways, found := binding(t, f.ns); found[0] || found[1] {
		t.Errorf("the delegate got hosts %v gateways %v", hosts, gateways)
	}
	if gws := gatewaysIn(t, f.ns); len(gws) != 0 {
		t.Errorf("Gateways in the namespace: %v", gws)
	}
}
