package ownership

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// roleNames are the names mlcanary gives its routes; each name is one role.
func roleNames() []string {
	return []string{routing.HeaderRouteName(config.Blue), routing.HeaderRouteName(config.Green), routing.DefaultRouteName}
}

// OwnedRoutes maps the index of every route of vs.spec.http that is mlcanary's to its role (the
// name mlcanary gives it: mlcanary-blue, mlcanary-green or mlcanary-default). A route is mlcanary's
// when its name is recorded in routing.OwnedRoutesAnnotation, or when mlcanary adopts it (AdoptableRole).
// Every other index is someone else's route. A nil vs has no routes.
func OwnedRoutes(c *config.Config, vs *unstructured.Unstructured) map[int]string {
	out := map[int]string{}
	if vs == nil {
		return out
	}
	recorded := recordedRoutes(vs)
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for i, x := range routes {
		m, _ := x.(map[string]any)
		name, _, _ := unstructured.NestedString(m, "name")
		if name != "" && slices.Contains(recorded, name) && slices.Contains(roleNames(), name) {
			out[i] = name
			continue
		}
		if role, _ := AdoptableRole(c, m); role != "" {
			out[i] = role
		}
	}
	return out
}

func recordedRoutes(vs *unstructured.Unstructured) []string {
	s := vs.GetAnnotations()[routing.OwnedRoutesAnnotation]
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// AdoptableRole says whether mlcanary adopts a route it did not record: one that is unnamed (or
// carries exactly the name of the role it has) and has the documented flow's shape — a header
// route whose first match is exactly the URI prefix and the header with value blue or green and
// whose destinations are that version's Service, or a route without match whose destinations are
// the versions' Services. Any other field (timeout, retries, headers, corsPolicy, further match
// blocks...) is tolerated and kept. It returns the role, or "" and why the route is not adoptable.
func AdoptableRole(c *config.Config, route map[string]any) (role, why string) {
	name, _, _ := unstructured.NestedString(route, "name")
	if name != "" && !slices.Contains(roleNames(), name) {
		return "", "it has a name of its own"
	}
	dests, _, _ := unstructured.NestedSlice(route, "route")
	if len(dests) == 0 {
		return "", "it has no destinations"
	}
	matches, _, _ := unstructured.NestedSlice(route, "match")
	role = routing.DefaultRouteName
	var want config.Version
	if len(matches) > 0 {
		m, _ := matches[0].(map[string]any)
		v, ok := documentedMatch(c, m)
		if !ok {
			return "", fmt.Sprintf("its first match is not exactly uri prefix %s and header %s: blue or green", c.URIPrefix, c.Header)
		}
		role, want = routing.HeaderRouteName(v), v
	}
	for _, d := range dests {
		host := destinationHost(d)
		v, ok := VersionOf(c, host)
		if !ok {
			return "", fmt.Sprintf("it sends traffic to %s, which is not %s or %s", host, c.Objects[config.Green].Service, c.Objects[config.Blue].Service)
		}
		if want != "" && v != want {
			return "", fmt.Sprintf("it matches %s but sends traffic to %s", want, host)
		}
	}
	if name != "" && name != role {
		return "", fmt.Sprintf("its name is mlcanary's %s but its shape is that of %s", name, role)
	}
	return role, ""
}

// documentedMatch is the documented header route's match: the URI prefix and the header with
// value blue or green, nothing else. It returns that version.
func documentedMatch(c *config.Config, m map[string]any) (config.Version, bool) {
	prefix, _, _ := unstructured.NestedString(m, "uri", "prefix")
	headers, _, _ := unstructured.NestedMap(m, "headers")
	val, _, _ := unstructured.NestedString(m, "headers", c.Header, "exact")
	uri, _, _ := unstructured.NestedMap(m, "uri")
	exact, _, _ := unstructured.NestedMap(m, "headers", c.Header)
	v := config.Version(val)
	ok := onlyKeys(m, "uri", "headers") && len(uri) == 1 && prefix == c.URIPrefix && len(headers) == 1 && len(exact) == 1 &&
		(v == config.Green || v == config.Blue)
	return v, ok
}

func onlyKeys(m map[string]any, allowed ...string) bool {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return false
		}
	}
	return true
}

// RoutingOf reads which versions mlcanary's routes (recorded or adopted, see OwnedRoutes) send
// traffic to: a header route by its role, the default route by its destinations' weights and, when
// mlcanary recorded it (routing.OwnedMirrorAnnotation), the share its mirror copies to blue.
func RoutingOf(c *config.Config, vs *unstructured.Unstructured) routing.Routing {
	r := routing.Routing{Headers: map[config.Version]bool{}, Weights: map[config.Version]int{}}
	if vs == nil {
		return r
	}
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	own, seen := OwnedRoutes(c, vs), map[string]bool{}
	for i, x := range routes {
		role, ok := own[i]
		if !ok || seen[role] { // Istio uses the first of two routes with the same match
			continue
		}
		seen[role] = true
		m, _ := x.(map[string]any)
		switch role {
		case routing.HeaderRouteName(config.Blue):
			r.Headers[config.Blue] = true
		case routing.HeaderRouteName(config.Green):
			r.Headers[config.Green] = true
		default:
			addWeights(c, m, r.Weights)
			if ownsMirror(c, vs, m) {
				r.Mirror = mirrorShare(c, m, config.Blue)
			}
		}
	}
	return r
}

func addWeights(c *config.Config, route map[string]any, into map[config.Version]int) {
	dests, _, _ := unstructured.NestedSlice(route, "route")
	for _, d := range dests {
		v, ok := VersionOf(c, destinationHost(d))
		if !ok {
			continue
		}
		w, found, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
		if len(dests) == 1 && (!found || w == 0) {
			w = 100 // Istio: a single destination receives all traffic whatever its weight
		}
		into[v] += int(w)
	}
}
