package render

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Owned reports whether an HTTP route (as it is on the cluster) belongs to mlcanary: it carries one
// of mlcanary's names, or it is unnamed and has exactly the shape of the documented flow's
// hand-written routes — a header route whose value is blue or green and whose destinations are that
// version's Service, or a route without match whose destinations are the two Services — which
// mlcanary adopts unchanged. Any other route belongs to someone else.
func Owned(c *config.Config, route map[string]any) bool {
	name, _, _ := unstructured.NestedString(route, "name")
	if IsOwnedRoute(name) {
		return true
	}
	if name != "" || !onlyKeys(route, "match", "route") {
		return false
	}
	dests, _, _ := unstructured.NestedSlice(route, "route")
	matches, _, _ := unstructured.NestedSlice(route, "match")
	if len(dests) == 0 || len(matches) > 1 {
		return false
	}
	want, isHeader := headerVersion(c, route)
	if len(matches) == 1 && !(isHeader && documentedMatch(c, matches[0])) {
		return false
	}
	for _, d := range dests {
		v, ok := VersionOf(c, destinationHost(d))
		if !ok || (isHeader && v != want) {
			return false
		}
	}
	return true
}

// documentedMatch is the documented header route's match: the URI prefix and the header, nothing else.
func documentedMatch(c *config.Config, match any) bool {
	m, _ := match.(map[string]any)
	prefix, _, _ := unstructured.NestedString(m, "uri", "prefix")
	headers, _, _ := unstructured.NestedMap(m, "headers")
	return onlyKeys(m, "uri", "headers") && prefix == c.URIPrefix && len(headers) == 1
}

func onlyKeys(m map[string]any, allowed ...string) bool {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return false
		}
	}
	return true
}

func destinationHost(d any) string {
	m, _ := d.(map[string]any)
	h, _, _ := unstructured.NestedString(m, "destination", "host")
	return h
}

// Merge puts the routes of live that are not mlcanary's into desired, between mlcanary's header
// routes and its default route, and keeps match blocks someone added to mlcanary's header routes
// (mlcanary writes exactly one, first). Both arguments are VirtualService objects; desired changes.
func Merge(c *config.Config, desired, live *unstructured.Unstructured) error {
	ours, _, err := unstructured.NestedSlice(desired.Object, "spec", "http")
	if err != nil {
		return fmt.Errorf("reading desired routes: %w", err)
	}
	var liveRoutes []any
	if live != nil {
		liveRoutes, _, _ = unstructured.NestedSlice(live.Object, "spec", "http")
	}
	liveByName := map[string]map[string]any{}
	var foreign []any
	for _, r := range liveRoutes {
		m, _ := r.(map[string]any)
		if Owned(c, m) {
			if name, _, _ := unstructured.NestedString(m, "name"); name != "" {
				liveByName[name] = m
			}
			continue
		}
		foreign = append(foreign, r)
	}
	var head, tail []any
	for _, r := range ours {
		m := r.(map[string]any)
		name, _, _ := unstructured.NestedString(m, "name")
		if name == DefaultRouteName {
			tail = append(tail, m)
			continue
		}
		keepExtraMatches(m, liveByName[name])
		head = append(head, m)
	}
	merged := append(append(head, foreign...), tail...)
	if err := unstructured.SetNestedSlice(desired.Object, merged, "spec", "http"); err != nil {
		return err
	}
	if live != nil {
		keepForeignStrings(desired.Object, live.Object, owned(live, OwnedHostsAnnotation), "spec", "hosts")
		keepForeignStrings(desired.Object, live.Object, owned(live, OwnedGatewaysAnnotation), "spec", "gateways")
	}
	return nil
}

// owned lists the entries mlcanary recorded writing into live (none for a nil live).
func owned(live *unstructured.Unstructured, annotation string) []string {
	if live == nil {
		return nil
	}
	return strings.Split(live.GetAnnotations()[annotation], ",")
}

// keepForeignStrings appends the entries of live's string list at path that desired lacks and
// mlcanary did not write before (wasOurs): server-side apply replaces a whole list, so a host or
// gateway someone added would be lost, while one mlcanary stopped writing must go.
func keepForeignStrings(desired, live map[string]any, wasOurs []string, path ...string) {
	if live == nil {
		return
	}
	ours, _, _ := unstructured.NestedStringSlice(desired, path...)
	theirs, _, _ := unstructured.NestedStringSlice(live, path...)
	for _, s := range theirs {
		if !slices.Contains(ours, s) && !slices.Contains(wasOurs, s) {
			ours = append(ours, s)
		}
	}
	_ = unstructured.SetNestedStringSlice(desired, ours, path...)
}

// MergeGateway keeps what someone else added to the Gateway: servers on ports mlcanary never wrote
// (an HTTPS listener, say) and hosts added to mlcanary's own server. desired changes.
func MergeGateway(desired, live *unstructured.Unstructured) {
	if live == nil {
		return
	}
	ours, _, _ := unstructured.NestedSlice(desired.Object, "spec", "servers")
	wasOurs := owned(live, OwnedPortsAnnotation)
	theirs, _, _ := unstructured.NestedSlice(live.Object, "spec", "servers")
	for _, s := range theirs {
		m, _ := s.(map[string]any)
		p, _, _ := unstructured.NestedInt64(m, "port", "number")
		if i := serverOnPort(ours, p); i >= 0 {
			keepForeignStrings(ours[i].(map[string]any), m, owned(live, OwnedHostsAnnotation), "hosts")
			continue
		}
		if !slices.Contains(wasOurs, fmt.Sprint(p)) {
			ours = append(ours, m)
		}
	}
	_ = unstructured.SetNestedSlice(desired.Object, ours, "spec", "servers")
}

func serverOnPort(servers []any, port int64) int {
	for i, s := range servers {
		if p, _, _ := unstructured.NestedInt64(s.(map[string]any), "port", "number"); p == port {
			return i
		}
	}
	return -1
}

func keepExtraMatches(ours, live map[string]any) {
	if live == nil {
		return
	}
	liveMatches, _, _ := unstructured.NestedSlice(live, "match")
	if len(liveMatches) < 2 {
		return
	}
	mine, _, _ := unstructured.NestedSlice(ours, "match")
	_ = unstructured.SetNestedSlice(ours, append(mine, liveMatches[1:]...), "match")
}

// LiveRouting reads which versions mlcanary's routes (or adopted unnamed routes) send traffic to.
func LiveRouting(c *config.Config, vs *unstructured.Unstructured) Routing {
	r := Routing{Headers: map[config.Version]bool{}, Weights: map[config.Version]int{}}
	if vs == nil {
		return r
	}
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for _, x := range routes {
		m, _ := x.(map[string]any)
		if !Owned(c, m) {
			continue
		}
		if v, ok := headerVersion(c, m); ok {
			r.Headers[v] = true
			continue
		}
		addWeights(c, m, r.Weights)
	}
	return r
}

func headerVersion(c *config.Config, route map[string]any) (config.Version, bool) {
	matches, _, _ := unstructured.NestedSlice(route, "match")
	for _, x := range matches {
		m, _ := x.(map[string]any)
		val, found, _ := unstructured.NestedString(m, "headers", c.Header, "exact")
		if found {
			v := config.Version(val)
			return v, v == config.Green || v == config.Blue
		}
	}
	return "", false
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
