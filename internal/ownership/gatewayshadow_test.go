package ownership

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/golden"
)

// TestGatewayShadows: which other VirtualServices on mlcanary's Gateway take requests from its
// routes, as Istio builds the Gateway's virtual hosts (one per host, the narrower of server host
// and VirtualService host; only the same host merges, oldest first, catch-alls last) and Envoy
// picks one (the most specific): every host relation (identical, ours narrower, theirs narrower,
// disjoint, several on each side, narrowed by the server's hosts), older and newer, catch-all,
// covering prefix and narrower routes. A refusal needs the default route to lose every host of
// mlcanary's; testdata/gatewayshadows.golden holds what each case says.
func TestGatewayShadows(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	vs := func(ns, name string, at time.Time, hosts, gateways []any, routes ...any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"hosts": hosts, "gateways": gateways, "http": routes}}}
		u.SetNamespace(ns)
		u.SetName(name)
		u.SetCreationTimestamp(metav1.NewTime(at))
		return u
	}
	d := config.Default()
	gw := []any{d.Gateway}
	catchAll := map[string]any{"name": "all", "route": []any{}}
	match := func(blocks ...map[string]any) map[string]any {
		l := []any{}
		for _, b := range blocks {
			l = append(l, b)
		}
		return map[string]any{"name": "m", "match": l, "route": []any{}}
	}
	prefix := func(p string) map[string]any { return map[string]any{"uri": map[string]any{"prefix": p}} }
	older, newer, same := t0.Add(-time.Hour), t0.Add(time.Hour), t0
	type other = *unstructured.Unstructured
	var out strings.Builder
	for _, tc := range []struct {
		name   string
		hosts  []string // --hosts
		server []string // the Gateway server's hosts; nil: not read
		ours   bool     // mlcanary's VirtualService exists (created at t0)
		other  other
		want   string // "refused", "note" or ""
	}{
		// Host relations, an older catch-all.
		{"identical *", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, gw, catchAll), "refused"},
		{"identical named host", []string{"model.example.com"}, nil, true, vs("ns", "a", older, []any{"model.example.com"}, gw, catchAll), "refused"},
		{"theirs narrower: named host under *", []string{"*"}, nil, true, vs("ns", "a", older, []any{"audit.example.com"}, gw, catchAll), "note"},
		{"theirs narrower: wildcard under *", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*.example.com"}, gw, catchAll), "note"},
		{"theirs narrower: named host under *.example.com", []string{"*.example.com"}, nil, true, vs("ns", "a", older, []any{"audit.example.com"}, gw, catchAll), "note"},
		{"ours narrower than their wildcard", []string{"model.example.com"}, nil, true, vs("ns", "a", older, []any{"*.example.com"}, gw, catchAll), ""},
		{"ours narrower than their *, before ours exists", []string{"model.example.com"}, nil, false, vs("ns", "a", t0, []any{"*"}, gw, catchAll), ""},
		{"disjoint", []string{"model.example.com"}, nil, true, vs("ns", "a", older, []any{"api.example.com"}, gw, catchAll), ""},
		{"ours on two hosts, theirs on one", []string{"model.example.com", "api.example.com"}, nil, true, vs("ns", "a", older, []any{"model.example.com"}, gw, catchAll), "note"},
		{"ours on two hosts, theirs on both", []string{"model.example.com", "api.example.com"}, nil, true, vs("ns", "a", older, []any{"api.example.com", "model.example.com"}, gw, catchAll), "refused"},
		{"theirs on a narrower host and ours", []string{"*"}, nil, true, vs("ns", "a", older, []any{"audit.example.com", "*"}, gw, catchAll), "refused"},
		{"ours on * and a named host, theirs on that host", []string{"*", "model.example.com"}, nil, true, vs("ns", "a", older, []any{"model.example.com"}, gw, catchAll), "note"},
		// The server's hosts name the virtual host.
		{"server for a named host: ours * and theirs meet there", []string{"*"}, []string{"model.example.com"}, true, vs("ns", "a", older, []any{"model.example.com"}, gw, catchAll), "refused"},
		{"server for *.example.com: ours * and theirs * meet there", []string{"*"}, []string{"*.example.com"}, true, vs("ns", "a", older, []any{"*.example.com"}, gw, catchAll), "refused"},
		{"server for a named host theirs does not serve", []string{"*"}, []string{"model.example.com"}, true, vs("ns", "a", older, []any{"audit.example.com"}, gw, catchAll), ""},
		{"server ns/* does not serve namespace other", []string{"*"}, []string{"ns/*"}, true, vs("other", "a", older, []any{"*"}, []any{"ns/" + d.Gateway}, catchAll), ""},
		{"server other/* serves namespace other", []string{"*"}, []string{"ns/*", "other/*"}, true, vs("other", "a", older, []any{"*"}, []any{"ns/" + d.Gateway}, catchAll), "refused"},
		// Age: older routes first, catch-alls last.
		{"older, before ours exists", []string{"*"}, nil, false, vs("ns", "a", t0, []any{"*"}, gw, catchAll), "refused"},
		{"same second, name first", []string{"*"}, nil, true, vs("ns", "a-team", same, []any{"*"}, gw, catchAll), "refused"},
		{"same second, name after", []string{"*"}, nil, true, vs("ns", "zz-team", same, []any{"*"}, gw, catchAll), ""},
		{"newer catch-all goes after ours", []string{"*"}, nil, true, vs("ns", "a", newer, []any{"*"}, gw, catchAll), ""},
		{"newer prefix covering /score comes before our default route", []string{"*"}, nil, true, vs("ns", "a", newer, []any{"*"}, gw, match(prefix("/sc"))), "refused"},
		{"newer prefix under /score", []string{"*"}, nil, true, vs("ns", "a", newer, []any{"*"}, gw, match(prefix("/score/v2"))), "note"},
		{"newer on a narrower host", []string{"*"}, nil, true, vs("ns", "a", newer, []any{"audit.example.com"}, gw, catchAll), "note"},
		{"newer: nothing after its catch-all is built", []string{"*"}, nil, true, vs("ns", "a", newer, []any{"*"}, gw, catchAll, match(prefix("/sc"))), ""},
		// Routes of an older one on the same host.
		{"prefix /", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, gw, match(prefix("/"))), "refused"},
		{"regex .*", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, gw, match(map[string]any{"uri": map[string]any{"regex": ".*"}})), "refused"},
		{"prefix covering /score", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, gw, match(prefix("/sc"))), "refused"},
		{"prefix under /score", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, gw, match(prefix("/score/v2"))), "note"},
		{"a header", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, gw, match(map[string]any{"headers": map[string]any{"x-team": map[string]any{"exact": "a"}}})), "note"},
		{"exact /sc never matches /score", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, gw, match(map[string]any{"uri": map[string]any{"exact": "/sc"}})), ""},
		{"another path, then a catch-all block", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, gw, match(prefix("/api"), map[string]any{})), "refused"},
		{"another path", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, gw, match(prefix("/api"))), ""},
		// Bound elsewhere.
		{"other namespace, ns/gateway", []string{"model.example.com"}, nil, true, vs("other", "a", older, []any{"model.example.com"}, []any{"ns/" + d.Gateway}, catchAll), "refused"},
		{"other namespace, legacy spelling", []string{"model.example.com"}, nil, true, vs("other", "a", older, []any{"model.example.com"}, []any{d.Gateway + ".ns.svc.cluster.local"}, catchAll), "refused"},
		{"other namespace, bare name is its own gateway", []string{"model.example.com"}, nil, true, vs("other", "a", older, []any{"model.example.com"}, gw, catchAll), ""},
		{"mesh only", []string{"*"}, nil, true, vs("ns", "a", older, []any{"*"}, []any{"mesh"}, catchAll), ""},
		{"a delegate", []string{"*"}, nil, true, vs("ns", "a", older, nil, gw, catchAll), ""},
	} {
		c := config.Default()
		c.Namespace, c.Hosts = "ns", tc.hosts
		var ours *unstructured.Unstructured
		if tc.ours {
			hosts := []any{}
			for _, h := range tc.hosts {
				hosts = append(hosts, h)
			}
			ours = vs("ns", c.VirtualService, t0, hosts, gw)
		}
		notes, err := GatewayShadows(&c, ours, tc.server, []*unstructured.Unstructured{tc.other})
		got, said := "", ""
		switch {
		case err != nil:
			got, said = "refused", err.Error()
			if !strings.Contains(said, "VirtualService "+tc.other.GetNamespace()+"/"+tc.other.GetName()+",") || !strings.Contains(said, "route http[0]") {
				t.Errorf("%s: %v does not name the VirtualService and its route", tc.name, err)
			}
		case len(notes) > 0:
			got, said = "note", strings.Join(notes, "\n  ")
		}
		if got != tc.want {
			t.Errorf("%s: %q (%v, %q), want %q", tc.name, got, err, notes, tc.want)
		}
		if got == "" {
			got = "nothing"
		}
		fmt.Fprintf(&out, "%s: %s\n  %s\n", tc.name, got, said)
	}
	golden.Assert(t, "gatewayshadows.golden", out.String())
	c := config.Default()
	c.Namespace = "ns"
	delegate := vs("ns", c.VirtualService, t0, nil, nil)
	if notes, err := GatewayShadows(&c, delegate, nil, []*unstructured.Unstructured{vs("ns", "a", older, []any{"*"}, gw, catchAll)}); err != nil || len(notes) > 0 {
		t.Errorf("ours a delegate: %v %q", err, notes)
	}
}
