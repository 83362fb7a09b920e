package ownership

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// mergeRoutes builds the route list mlcanary writes: each of its routes (ours, as rendered) starts
// from the live route with the same role, so every field mlcanary does not own (timeout, retries,
// fault, rewrite, headers, corsPolicy, match blocks after the first...) is kept, and only its name,
// first match and destinations are set. A route of mlcanary's that live lacks but start (the
// VirtualService as the stage read it when it decided; nil when there was none) had — one the
// stage unrouted before replacing a version's pods and now routes again — starts from its body in
// start, so a stage that removes a route for a while and re-adds it keeps what others put on it.
// Routes that are not mlcanary's are kept unchanged, between its header routes and its default
// route. The default route's mirror is mlcanary's only when recorded and still to blue's Service as written (ownsMirror): then it is
// replaced by the rendered one (or removed), else kept, and a rendered mirror refuses. It refuses a
// foreign route carrying the name of a route mlcanary writes, or one that would shadow its default
// route (shadowsDefault).
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
		from, beganRoute := base[name], began[name]
		if name == routing.DefaultRouteName { // its mirror is decided afresh when it is mlcanary's
			from, beganRoute = withoutOwnMirror(c, live, from), withoutOwnMirror(c, start, beganRoute)
		}
		if from == nil {
			from = beganRoute
		}
		route := ownedFields(c, m, from, beganRoute)
		if name == routing.DefaultRouteName {
			if err := setMirror(route, m); err != nil {
				return nil, err
			}
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
