package ownership

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/secret"
)

// DescribeRoute names route i of a VirtualService for a person: its index, its name when it has
// one, and what it matches and where it sends traffic, e.g.
// `route http[1] "legacy" (uri prefix /score, header x-api-version=green → model-svc-green:5001)`.
// A credential in it (a header match on Authorization, a token in a URI) is redacted
// (secret.Object): the description lands in pipeline logs.
func DescribeRoute(i int, route map[string]any) string {
	route = secret.Object(route)
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
