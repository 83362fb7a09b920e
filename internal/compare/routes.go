package compare

import (
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// CheckRoutes reports whether each version has a header route on header (value its name, the
// value compare sends) to its own destination, among the live routes (as engine's status or a stage's
// result lists them: a route is listed under the version whose Service it reaches). Without one, a
// version's copy of each request falls through to the default route — after Green_100 or Rollback,
// before Blue_0, or with another routing header than the VirtualService's, green would answer both
// copies and compare would compare green with green. The error is one sentence; nothing was sent.
func CheckRoutes(routes []summary.HeaderRoute, header string) error {
	for _, v := range []config.Version{config.Blue, config.Green} {
		if !hasRoute(routes, header, string(v)) {
			return fmt.Errorf("the VirtualService has no header route %s: %s to %s, so %s's copy of each request would reach "+
				"the default route and compare could not tell who answered it; nothing was compared", header, v, v, v)
		}
	}
	return nil
}

func hasRoute(routes []summary.HeaderRoute, header, version string) bool {
	for _, r := range routes {
		if r.Version == version && r.Value == version && strings.EqualFold(r.Header, header) {
			return true
		}
	}
	return false
}

// RoutesOf lists the header routes a live VirtualService's spec (its JSON object) sends on header:
// for each value blue and green, the first http route (Istio's order) with a match whose header is
// exactly that value, listed under the version its single destination host reaches (versionOf maps a
// host to blue or green; "" for neither) — so a route matching blue's value but sending to green's
// Service is listed as green's, and CheckRoutes refuses it. Its path is the match's uri prefix.
func RoutesOf(vs map[string]any, header string, versionOf func(host string) string) []summary.HeaderRoute {
	spec, _ := vs["spec"].(map[string]any)
	routes, _ := spec["http"].([]any)
	var out []summary.HeaderRoute
	seen := map[string]bool{}
	for _, x := range routes {
		route, _ := x.(map[string]any)
		matches, _ := route["match"].([]any)
		for _, y := range matches {
			m, _ := y.(map[string]any)
			value := exactHeader(m, header)
			if value != string(config.Blue) && value != string(config.Green) || seen[value] {
				continue
			}
			seen[value] = true
			dests, _ := route["route"].([]any)
			dest := ""
			if len(dests) == 1 {
				d, _ := dests[0].(map[string]any)
				dd, _ := d["destination"].(map[string]any)
				host, _ := dd["host"].(string)
				dest = versionOf(host)
			}
			uri, _ := m["uri"].(map[string]any)
			prefix, _ := uri["prefix"].(string)
			out = append(out, summary.HeaderRoute{Version: dest, Header: header, Value: value, Path: prefix})
		}
	}
	return out
}

// exactHeader is a match's exact value of header (names compared case-insensitively, as HTTP does).
func exactHeader(m map[string]any, header string) string {
	headers, _ := m["headers"].(map[string]any)
	for name, v := range headers {
		if strings.EqualFold(name, header) {
			sm, _ := v.(map[string]any)
			exact, _ := sm["exact"].(string)
			return exact
		}
	}
	return ""
}
