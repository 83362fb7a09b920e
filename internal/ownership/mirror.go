package ownership

import (
	"fmt"
	"math"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// The mirror of mlcanary's default route (Shadow_N) is its own only while it is recorded AND live
// is still the mirror Shadow_N writes: Shadow_N writes `mirror` (blue's Service at config.Port,
// nothing else) and `mirrorPercentage`, and records routing.OwnedMirrorAnnotation. The record alone
// is not enough: an annotation outlives a `kubectl edit` that re-points the mirror to an audit
// service, a subset or another port, or adds `mirrors`. Any other mirror on that route is someone
// else's: it is kept as it is live, like every field mlcanary does not own, it counts as a route
// to its Service (ForeignReferences), and Shadow_N refuses rather than replace it (Istio allows one
// `mirror`, and not with `mirrors`). Only its share (mirrorPercentage) may drift and stay
// mlcanary's: a stage sets it afresh.

// ownMirrorFields are the fields of an HTTP route that mlcanary's mirror consists of, plus the
// deprecated mirrorPercent, which would still set its share if someone added it.
var ownMirrorFields = []string{"mirror", "mirrorPercentage", "mirrorPercent"}

// ownsMirror reports whether route, a live route of mlcanary's default role in vs, carries
// mlcanary's mirror: vs records it and the route mirrors exactly as Shadow_N writes (isOwnMirror).
func ownsMirror(c *config.Config, vs *unstructured.Unstructured, route map[string]any) bool {
	return vs != nil && vs.GetAnnotations()[routing.OwnedMirrorAnnotation] == routing.DefaultRouteName && isOwnMirror(c, route)
}

// isOwnMirror reports whether route's mirror is the one Shadow_N writes: `mirror` is
// {host: blue's Service, port: {number: config.Port}} with nothing else (no subset), and the route
// has no `mirrors` list.
func isOwnMirror(c *config.Config, route map[string]any) bool {
	m, ok := route["mirror"].(map[string]any)
	if !ok || route["mirrors"] != nil || len(m) != 2 || m["host"] != c.Objects[config.Blue].Service {
		return false
	}
	port, ok := m["port"].(map[string]any)
	if !ok || len(port) != 1 {
		return false
	}
	switch n := port["number"].(type) {
	case int64:
		return n == int64(c.Port)
	case float64:
		return n == float64(c.Port)
	}
	return false
}

// mirrorShare is the percentage of a route's requests its `mirror` copies to version v: its
// mirrorPercentage rounded up (any share above 0 mirrors), 100 without one (Istio's default), 0
// when the route mirrors nowhere or elsewhere.
func mirrorShare(c *config.Config, route map[string]any, v config.Version) int {
	host, found, _ := unstructured.NestedString(route, "mirror", "host")
	if w, ok := VersionOf(c, host); !found || !ok || w != v {
		return 0
	}
	val, found, _ := unstructured.NestedFieldNoCopy(route, "mirrorPercentage", "value")
	if !found {
		if _, set := route["mirrorPercentage"]; set {
			return 0 // {} is a share of 0
		}
		return 100
	}
	var f float64
	switch n := val.(type) {
	case int64:
		f = float64(n)
	case float64:
		f = n
	}
	return int(math.Min(100, math.Max(0, math.Ceil(f))))
}

// withoutOwnMirror is route (a copy of a live route of mlcanary's default role in vs) without
// mlcanary's mirror, when it is mlcanary's (ownsMirror): the stage decides the mirror afresh. Any
// other route, or a mirror someone else wrote or re-pointed, is returned as it is.
func withoutOwnMirror(c *config.Config, vs *unstructured.Unstructured, route map[string]any) map[string]any {
	if route == nil || !ownsMirror(c, vs, route) {
		return route
	}
	out := runtimeCopy(route)
	for _, f := range ownMirrorFields {
		delete(out, f)
	}
	return out
}

// setMirror puts ours' mirror (a rendered default route) on out, the route mlcanary writes. A
// mirror someone else put there (`mirror` or `mirrors`, left in out because it is not mlcanary's,
// see ownsMirror) is never replaced: the stage is refused, naming it.
func setMirror(out, ours map[string]any) error {
	m, mirrored := ours["mirror"]
	if !mirrored {
		return nil
	}
	for _, f := range []string{"mirror", "mirrors"} {
		if theirs, ok := out[f]; ok {
			return fmt.Errorf("route %s already has a %s that is not mlcanary's (%s; mlcanary's mirrors only to %s), and Istio allows one mirror per route, so mlcanary's mirror to blue would replace it; remove that mirror first, or leave out the Shadow stage",
				routing.DefaultRouteName, f, describeMirror(theirs), ownMirrorDescription(ours))
		}
	}
	out["mirror"] = m
	if p, ok := ours["mirrorPercentage"]; ok {
		out["mirrorPercentage"] = p
	}
	return nil
}

// describeMirror reads a live `mirror` or `mirrors` value as "to HOST" (each host of a list).
func describeMirror(v any) string {
	hosts := ""
	add := func(d any) {
		if hosts != "" {
			hosts += ", "
		}
		hosts += destinationHost(map[string]any{"destination": d})
	}
	switch m := v.(type) {
	case map[string]any:
		add(m)
	case []any:
		for _, x := range m {
			e, _ := x.(map[string]any)
			add(e["destination"])
		}
	}
	return "to " + hosts
}

// ownMirrorDescription reads the rendered mirror of ours (a default route) as "HOST port N".
func ownMirrorDescription(ours map[string]any) string {
	host, _, _ := unstructured.NestedString(ours, "mirror", "host")
	port, found, _ := unstructured.NestedFieldNoCopy(ours, "mirror", "port", "number")
	if !found {
		return host
	}
	return fmt.Sprintf("%s port %v", host, port)
}
