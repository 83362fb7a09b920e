package render

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// OwnedRoutesAnnotation records, on the VirtualService, the names of the HTTP routes mlcanary
// wrote (comma-separated, e.g. "mlcanary-blue,mlcanary-green,mlcanary-default"). A route is
// mlcanary's because it is recorded here or because mlcanary adopts it (AdoptableRole), never
// because of its name alone: a route someone names "mlcanary-foo" stays theirs.
const OwnedRoutesAnnotation = "mlcanary.io/owned-routes"

// roleNames are the names mlcanary gives its routes; each name is one role.
func roleNames() []string {
	return []string{routing.HeaderRouteName(config.Blue), routing.HeaderRouteName(config.Green), routing.DefaultRouteName}
}

// OwnedRoutes maps the index of every route of vs.spec.http that is mlcanary's to its role (the
// name mlcanary gives it: mlcanary-blue, mlcanary-green or mlcanary-default). A route is mlcanary's
// when its name is recorded in OwnedRoutesAnnotation, or when mlcanary adopts it (AdoptableRole).
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
	s := vs.GetAnnotations()[OwnedRoutesAnnotation]
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

// mergeRoutes builds the route list mlcanary writes: each of its routes (ours, as rendered) starts
// from the live route with the same role, so every field mlcanary does not own (timeout, retries,
// fault, rewrite, headers, corsPolicy, match blocks after the first...) is kept, and only its name,
// first match and destinations are set. A route of mlcanary's that live lacks but start (the
// VirtualService as the stage read it when it decided; nil when there was none) had — one the
// stage unrouted before replacing a version's pods and now routes again — starts from its body in
// start, so a stage that removes a route for a while and re-adds it keeps what others put on it.
// Routes that are not mlcanary's are kept unchanged, between its header routes and its default
// route. It refuses a foreign route carrying the name of a route mlcanary writes, or one that
// would shadow its default route (shadowsDefault).
func mergeRoutes(c *config.Config, ours []any, live, start *unstructured.Unstructured) ([]any, error) {
	var liveRoutes []any
	if live != nil {
		liveRoutes, _, _ = unstructured.NestedSlice(live.Object, "spec", "http")
	}
	base, foreign := routesByRole(c, live)
	began, _ := routesByRole(c, start)
	var head, tail []any
	var names []string
	for _, r := range ours {
		m := r.(map[string]any)
		name, _, _ := unstructured.NestedString(m, "name")
		names = append(names, name)
		from := base[name]
		if from == nil {
			from = began[name]
		}
		route := ownedFields(c, m, from, began[name])
		if name == routing.DefaultRouteName {
			tail = append(tail, route)
			continue
		}
		head = append(head, route)
	}
	merged := head
	for _, i := range foreign {
		m, _ := liveRoutes[i].(map[string]any)
		name, _, _ := unstructured.NestedString(m, "name")
		if slices.Contains(names, name) {
			_, why := AdoptableRole(c, m)
			return nil, fmt.Errorf("%s is not mlcanary's (%s) but has the name of a route mlcanary writes; rename it", DescribeRoute(i, m), why)
		}
		if len(tail) > 0 {
			if err := shadowsDefault(c, i, m); err != nil {
				return nil, err
			}
		}
		merged = append(merged, m)
	}
	return append(merged, tail...), nil
}

// routesByRole maps each role of mlcanary's routes in vs (see OwnedRoutes) to the first route of
// that role, and lists the indexes of the routes that are someone else's. A nil vs has none.
func routesByRole(c *config.Config, vs *unstructured.Unstructured) (map[string]map[string]any, []int) {
	byRole := map[string]map[string]any{}
	if vs == nil {
		return byRole, nil
	}
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	own := OwnedRoutes(c, vs)
	var foreign []int
	for i, r := range routes {
		role, ok := own[i]
		if !ok {
			foreign = append(foreign, i)
			continue
		}
		if _, seen := byRole[role]; !seen {
			byRole[role], _ = r.(map[string]any)
		}
	}
	return byRole, foreign
}

// ownedFields is the route mlcanary writes for its rendered route ours: a copy of the route of
// the same role it starts from (from; nil when there is none) with name, first match and
// destinations set from ours. The match blocks someone added after mlcanary's are kept; a default
// route has no match. Each destination keeps what someone put on it (mergeDestinations).
func ownedFields(c *config.Config, ours, from, began map[string]any) map[string]any {
	out := map[string]any{}
	if from != nil {
		out = runtimeCopy(from)
	}
	out["name"] = ours["name"]
	mineDests, _, _ := unstructured.NestedSlice(ours, "route")
	out["route"] = mergeDestinations(c, mineDests, from, began)
	mine, _, _ := unstructured.NestedSlice(ours, "match")
	if len(mine) == 0 {
		delete(out, "match")
		return out
	}
	liveMatches, _, _ := unstructured.NestedSlice(out, "match")
	if len(liveMatches) > 1 {
		mine = append(mine, liveMatches[1:]...)
	}
	out["match"] = mine
	return out
}

// mergeDestinations is the destination list mlcanary writes for its rendered destinations ours:
// each starts from the destination of the same version (its Service under any spelling, see
// VersionOf) in the route it starts from, or else in the route of the same role when the stage
// began, keeping every field someone set there (headers, a subset...); mlcanary sets only
// destination.host, destination.port and weight. A version with no such destination gets
// mlcanary's rendered one.
func mergeDestinations(c *config.Config, ours []any, routes ...map[string]any) []any {
	out := make([]any, 0, len(ours))
	for _, d := range ours {
		mine := d.(map[string]any)
		v, _ := VersionOf(c, destinationHost(mine))
		theirs := destinationOf(c, v, routes...)
		if theirs == nil {
			out = append(out, mine)
			continue
		}
		merged := runtimeCopy(theirs)
		delete(merged, "weight")
		dest, _ := merged["destination"].(map[string]any)
		if dest == nil {
			dest = map[string]any{}
		}
		delete(dest, "port")
		for k, val := range mine {
			if k != "destination" {
				merged[k] = val
			}
		}
		mineDest, _ := mine["destination"].(map[string]any)
		for k, val := range mineDest {
			dest[k] = val
		}
		merged["destination"] = dest
		out = append(out, merged)
	}
	return out
}

// destinationOf is the first destination of version v in the first of routes that has one.
func destinationOf(c *config.Config, v config.Version, routes ...map[string]any) map[string]any {
	if v == "" {
		return nil
	}
	for _, r := range routes {
		dests, _, _ := unstructured.NestedSlice(r, "route")
		for _, d := range dests {
			if w, ok := VersionOf(c, destinationHost(d)); ok && w == v {
				return d.(map[string]any)
			}
		}
	}
	return nil
}

func runtimeCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}

// DescribeRoute names route i of a VirtualService for a person: its index, its name when it has
// one, and what it matches and where it sends traffic, e.g.
// `route http[1] "legacy" (uri prefix /score, header x-api-version=green → model-svc-green:5001)`.
func DescribeRoute(i int, route map[string]any) string {
	s := fmt.Sprintf("route http[%d]", i)
	if name, _, _ := unstructured.NestedString(route, "name"); name != "" {
		s += fmt.Sprintf(" %q", name)
	}
	var what []string
	matches, _, _ := unstructured.NestedSlice(route, "match")
	for _, x := range matches {
		if d := describeMatch(x); d != "" {
			what = append(what, d)
		} else {
			what = append(what, "empty match")
		}
	}
	if len(matches) == 0 {
		what = append(what, "no match")
	}
	var dests []string
	routes, _, _ := unstructured.NestedSlice(route, "route")
	for _, d := range routes {
		host := destinationHost(d)
		if p, found, _ := unstructured.NestedFieldNoCopy(d.(map[string]any), "destination", "port", "number"); found {
			host += fmt.Sprintf(":%v", p)
		}
		if w, found, _ := unstructured.NestedFieldNoCopy(d.(map[string]any), "weight"); found && len(routes) > 1 {
			host += fmt.Sprintf(" weight %v", w)
		}
		dests = append(dests, host)
	}
	return s + " (" + strings.Join(what, " or ") + " → " + strings.Join(dests, ", ") + ")"
}

func describeMatch(x any) string {
	m, _ := x.(map[string]any)
	var parts []string
	if uri, ok := m["uri"].(map[string]any); ok {
		for k, v := range uri {
			parts = append(parts, fmt.Sprintf("uri %s %v", k, v))
		}
	}
	headers, _ := m["headers"].(map[string]any)
	for _, k := range sortedKeys(headers) {
		hm, _ := headers[k].(map[string]any)
		for t, v := range hm {
			op := "="
			if t != "exact" {
				op = " " + t + " "
			}
			parts = append(parts, fmt.Sprintf("header %s%s%v", k, op, v))
		}
	}
	for _, k := range sortedKeys(m) {
		if k != "uri" && k != "headers" {
			parts = append(parts, k)
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// LiveRouting reads which versions mlcanary's routes (recorded or adopted, see OwnedRoutes) send
// traffic to: a header route by its role, the default route by its destinations' weights.
func LiveRouting(c *config.Config, vs *unstructured.Unstructured) routing.Routing {
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
