package engine_test

import (
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// The test's own reading of raw Istio objects, for the recorder's safety checks (harness_test.go,
// fields_test.go) and the fixture's view of the traffic (live). It never calls the code under test
// (ownership.RoutingOf, OwnedRoutes, ForeignReferences, AdoptableRole, kube.RolloutOf...): a
// check that asked that code whether a write was safe would agree with its bugs. It reads what
// Istio does with the fields: a request takes the first route that matches it, a destination with
// weight 0 beside others gets nothing, a single destination gets everything whatever its weight.

// namesService reports whether host, written in a VirtualService of namespace from, names Service
// svc of namespace ns: the short name from ns itself, else name.ns, name.ns.svc or
// name.ns.svc.<cluster domain>, in any case, with or without a trailing dot.
func namesService(from, host, ns, svc string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	ns, svc = strings.ToLower(ns), strings.ToLower(svc)
	switch h {
	case svc:
		return strings.EqualFold(from, ns)
	case svc + "." + ns, svc + "." + ns + ".svc":
		return true
	}
	domain, ok := strings.CutPrefix(h, svc+"."+ns+".svc.")
	return ok && domain != ""
}

// hostsWithTraffic lists the destination hosts of a route (http, tcp or tls) that get a share of
// its requests, and the hosts it mirrors to.
func hostsWithTraffic(route map[string]any) []string {
	dests, _, _ := unstructured.NestedSlice(route, "route")
	var out []string
	for _, d := range dests {
		m, _ := d.(map[string]any)
		host, _, _ := unstructured.NestedString(m, "destination", "host")
		w, found, _ := unstructured.NestedInt64(m, "weight")
		if len(dests) == 1 || !found || w > 0 { // an absent weight among several counts: a missed route would hide an unsafe write
			out = append(out, host)
		}
	}
	if h, found, _ := unstructured.NestedString(route, "mirror", "host"); found {
		out = append(out, h)
	}
	mirrors, _, _ := unstructured.NestedSlice(route, "mirrors")
	for _, x := range mirrors {
		m, _ := x.(map[string]any)
		h, _, _ := unstructured.NestedString(m, "destination", "host")
		out = append(out, h)
	}
	return out
}

// sendsTo reports whether route, of a VirtualService in namespace from, sends requests (or mirrors
// them) to version v's Service in c's namespace.
func sendsTo(c *config.Config, from string, route map[string]any, v config.Version) bool {
	return slices.ContainsFunc(hostsWithTraffic(route), func(h string) bool {
		return namesService(from, h, c.Namespace, c.Objects[v].Service)
	})
}

// httpRoutes returns vs's HTTP routes as maps (none for a nil vs).
func httpRoutes(vs *unstructured.Unstructured) []map[string]any {
	if vs == nil {
		return nil
	}
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	out := make([]map[string]any, 0, len(routes))
	for _, r := range routes {
		m, _ := r.(map[string]any)
		out = append(out, m)
	}
	return out
}

// catchesAll reports whether route matches every request: it has no match block, or an empty one.
func catchesAll(route map[string]any) bool {
	matches, _, _ := unstructured.NestedSlice(route, "match")
	if len(matches) == 0 {
		return true
	}
	return slices.ContainsFunc(matches, func(m any) bool { mm, _ := m.(map[string]any); return len(mm) == 0 })
}

// defaultRoute is the route a request without the header takes under the URI prefix — the first
// route that matches every request — and whether it sends traffic anywhere.
func defaultRoute(vs *unstructured.Unstructured) (map[string]any, bool) {
	for _, r := range httpRoutes(vs) {
		if catchesAll(r) {
			return r, len(hostsWithTraffic(r)) > 0
		}
	}
	return nil, false
}

// headerMatch reports whether match block m is the documented header route's: exactly the URI
// prefix and the header with value v.
func headerMatch(c *config.Config, m map[string]any, v config.Version) bool {
	want := map[string]any{
		"uri":     map[string]any{"prefix": c.URIPrefix},
		"headers": map[string]any{c.Header: map[string]any{"exact": string(v)}},
	}
	return reflect.DeepEqual(m, want)
}

// trafficOf reads the traffic a VirtualService sends, as Istio would route the documented
// requests: version v has a header route when the first route whose first match block is the
// documented one for v sends to v's Service; the weights are those of the default route
// (defaultRoute), a single destination taking 100.
func trafficOf(c *config.Config, vs *unstructured.Unstructured) routing.Routing {
	r := routing.Routing{Headers: map[config.Version]bool{}, Weights: map[config.Version]int{}}
	for _, v := range config.Versions {
		for _, route := range httpRoutes(vs) {
			matches, _, _ := unstructured.NestedSlice(route, "match")
			if len(matches) == 0 {
				continue
			}
			if m, _ := matches[0].(map[string]any); headerMatch(c, m, v) {
				r.Headers[v] = sendsTo(c, c.Namespace, route, v)
				break
			}
		}
	}
	def, ok := defaultRoute(vs)
	if !ok {
		return r
	}
	if h, found, _ := unstructured.NestedString(def, "mirror", "host"); found && namesService(c.Namespace, h, c.Namespace, c.Objects[config.Blue].Service) {
		r.Mirror = 100 // Istio's default without mirrorPercentage
		if p, found, _ := unstructured.NestedFieldNoCopy(def, "mirrorPercentage", "value"); found {
			switch n := p.(type) {
			case int64:
				r.Mirror = int(n)
			case float64:
				r.Mirror = int(n)
			}
		}
	}
	dests, _, _ := unstructured.NestedSlice(def, "route")
	for _, d := range dests {
		m, _ := d.(map[string]any)
		host, _, _ := unstructured.NestedString(m, "destination", "host")
		w, _, _ := unstructured.NestedInt64(m, "weight")
		if len(dests) == 1 {
			w = 100
		}
		for _, v := range config.Versions {
			if namesService(c.Namespace, host, c.Namespace, c.Objects[v].Service) {
				r.Weights[v] += int(w)
			}
		}
	}
	return r
}

// roleNames are the names mlcanary gives its routes (README "Only its own fields").
var roleNames = []string{routing.HeaderRouteName(config.Blue), routing.HeaderRouteName(config.Green), routing.DefaultRouteName}

// recordedRoles lists the route names the VirtualService's owned-routes annotation records that
// are names of mlcanary's routes.
func recordedRoles(vs *unstructured.Unstructured) []string {
	var out []string
	for _, n := range strings.Split(vs.GetAnnotations()["mlcanary.io/owned-routes"], ",") {
		if slices.Contains(roleNames, n) {
			out = append(out, n)
		}
	}
	return out
}

// recordedRole is the role of route when vs records it as mlcanary's, else "".
func recordedRole(vs *unstructured.Unstructured, route map[string]any) string {
	name, _, _ := unstructured.NestedString(route, "name")
	if slices.Contains(recordedRoles(vs), name) {
		return name
	}
	return ""
}

// adoptableRole is the role of a route mlcanary adopts although it did not record it (README
// "Adopting a hand-written setup"): unnamed or named exactly as the role, sending only to the
// release's Services (mirrors and other fields are the owner's and do not matter), either without
// a match (the default route) or with the documented match for one version first and sending to
// that version only. "" for any other route.
func adoptableRole(c *config.Config, route map[string]any) string {
	name, _, _ := unstructured.NestedString(route, "name")
	dests, _, _ := unstructured.NestedSlice(route, "route")
	if len(dests) == 0 || name != "" && !slices.Contains(roleNames, name) {
		return ""
	}
	versions := map[config.Version]bool{}
	for _, d := range dests {
		m, _ := d.(map[string]any)
		host, _, _ := unstructured.NestedString(m, "destination", "host")
		found := false
		for _, v := range config.Versions {
			if namesService(c.Namespace, host, c.Namespace, c.Objects[v].Service) {
				versions[v], found = true, true
			}
		}
		if !found {
			return ""
		}
	}
	role := routing.DefaultRouteName
	if matches, _, _ := unstructured.NestedSlice(route, "match"); len(matches) > 0 {
		first, _ := matches[0].(map[string]any)
		role = ""
		for _, v := range config.Versions {
			if headerMatch(c, first, v) && len(versions) == 1 && versions[v] {
				role = routing.HeaderRouteName(v)
			}
		}
	}
	if name != "" && name != role {
		return ""
	}
	return role
}

// roleOf is the role of route in vs when it is mlcanary's (recorded, else adoptable), else "".
func roleOf(c *config.Config, vs *unstructured.Unstructured, route map[string]any) string {
	if role := recordedRole(vs, route); role != "" {
		return role
	}
	return adoptableRole(c, route)
}

// othersFields is a copy of route without the fields mlcanary sets on its routes: name,
// destinations and the first match block.
func othersFields(route map[string]any) map[string]any {
	m := runtimeClone(route)
	delete(m, "name")
	delete(m, "route")
	if matches, ok := m["match"].([]any); ok && len(matches) > 0 {
		m["match"] = matches[1:]
	}
	return m
}
