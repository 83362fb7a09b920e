package ownership

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestGatewayShadows: which other VirtualServices Istio tries before mlcanary's on its gateway
// host (older, same Gateway under any spelling, overlapping host) and what their routes do to
// mlcanary's: a catch-all or a prefix covering --uri-prefix refuses, a narrower route is a note.
func TestGatewayShadows(t *testing.T) {
	c := config.Default()
	c.Namespace, c.Hosts = "ns", []string{"model.example.com"}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	vs := func(ns, name string, at time.Time, hosts, gateways []any, routes ...any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"hosts": hosts, "gateways": gateways, "http": routes}}}
		u.SetNamespace(ns)
		u.SetName(name)
		u.SetCreationTimestamp(metav1.NewTime(at))
		return u
	}
	ours := vs("ns", c.VirtualService, t0, []any{"model.example.com"}, []any{c.Gateway})
	catchAll := map[string]any{"name": "all", "route": []any{}}
	prefix := func(p string) map[string]any {
		return map[string]any{"name": "p", "match": []any{map[string]any{"uri": map[string]any{"prefix": p}}}, "route": []any{}}
	}
	gw := []any{c.Gateway}
	for _, tc := range []struct {
		name  string
		ours  *unstructured.Unstructured
		other *unstructured.Unstructured
		want  string // "refused", "note" or ""
	}{
		{"older catch-all", ours, vs("ns", "a", t0.Add(-time.Hour), []any{"*"}, gw, catchAll), "refused"},
		{"older catch-all, before ours exists", nil, vs("ns", "a", t0, []any{"*.example.com"}, gw, catchAll), "refused"},
		{"same second, name first", ours, vs("ns", "a-team", t0, []any{"*"}, gw, catchAll), "refused"},
		{"same second, name after", ours, vs("ns", "zz-team", t0, []any{"*"}, gw, catchAll), ""},
		{"newer", ours, vs("ns", "a", t0.Add(time.Hour), []any{"*"}, gw, catchAll), ""},
		{"other namespace, ns/gateway", ours, vs("other", "a", t0.Add(-time.Hour), []any{"model.example.com"}, []any{"ns/" + c.Gateway}, catchAll), "refused"},
		{"other namespace, legacy spelling", ours, vs("other", "a", t0.Add(-time.Hour), []any{"model.example.com"}, []any{c.Gateway + ".ns.svc.cluster.local"}, catchAll), "refused"},
		{"other namespace, bare name is its own gateway", ours, vs("other", "a", t0.Add(-time.Hour), []any{"model.example.com"}, gw, catchAll), ""},
		{"another host", ours, vs("ns", "a", t0.Add(-time.Hour), []any{"api.example.com"}, gw, catchAll), ""},
		{"mesh only", ours, vs("ns", "a", t0.Add(-time.Hour), []any{"*"}, []any{"mesh"}, catchAll), ""},
		{"prefix covering /score", ours, vs("ns", "a", t0.Add(-time.Hour), []any{"*"}, gw, prefix("/sc")), "refused"},
		{"prefix under /score", ours, vs("ns", "a", t0.Add(-time.Hour), []any{"*"}, gw, prefix("/score/v2")), "note"},
		{"another path", ours, vs("ns", "a", t0.Add(-time.Hour), []any{"*"}, gw, prefix("/api")), ""},
		{"ours is a delegate", vs("ns", c.VirtualService, t0, nil, nil), vs("ns", "a", t0.Add(-time.Hour), []any{"*"}, gw, catchAll), ""},
	} {
		notes, err := GatewayShadows(&c, tc.ours, []*unstructured.Unstructured{tc.other})
		got := ""
		switch {
		case err != nil:
			got = "refused"
			if !strings.Contains(err.Error(), "VirtualService "+tc.other.GetNamespace()+"/"+tc.other.GetName()+",") || !strings.Contains(err.Error(), "route http[0]") {
				t.Errorf("%s: %v does not name the VirtualService and its route", tc.name, err)
			}
		case len(notes) > 0:
			got = "note"
		}
		if got != tc.want {
			t.Errorf("%s: %q (%v, %q), want %q", tc.name, got, err, notes, tc.want)
		}
	}
}
