package ownership

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

// shadow says why mlcanary's default route gets no request for one of its virtual hosts (why)
// and what would let it (fix); the zero value: it gets them.
type shadow struct{ why, fix string }

// reach is what one match block of someone else's route takes of the requests to --uri-prefix.
type reach int

const (
	reachesNone reach = iota
	// reachesSome: it may match some of them.
	reachesSome
	// reachesAll: it matches every one of them and is not a catch-all (a prefix covering
	// --uri-prefix, "/sc" for "/score").
	reachesAll
	// catchAll: it matches every request and Istio counts it a catch-all
	// (pilot/pkg/networking/core/route/route.go, IsCatchAllRoute: a prefix "/" or regex ".*" with
	// no header, method, authority or query condition; no match or an empty block is prefix "/",
	// TranslateRouteMatch), which SortVHostRoutes moves after every other route of the virtual host.
	catchAll
)

// mergeText is how Istio puts the routes of the VirtualServices of one gateway host in order.
const mergeText = "Istio merges the VirtualServices of one gateway host into one virtual host, routes of the oldest first and catch-all routes (no match, as mlcanary's default route, prefix / or regex .*) last"

// sharedHost reads the routes of o, a VirtualService that gives mlcanary's virtual host k too
// (older: it is older than mlcanary's), in the order Istio puts them there
// (BuildHTTPRoutesForVirtualService drops a VirtualService's routes after its first catch-all;
// buildGatewayHTTPRouteConfig appends the VirtualServices' routes oldest first; SortVHostRoutes
// then moves catch-alls last, keeping their order): s is set when a route of o leaves mlcanary's
// default route no request to --uri-prefix for k, notes name each route that may take some.
func sharedHost(c *config.Config, o *unstructured.Unstructured, gateway, k string, older bool) (s shadow, notes []string) {
	when := "after"
	if older {
		when = "before"
	}
	where := fmt.Sprintf("VirtualService %s/%s, created %s mlcanary's and bound to the same Gateway %s for host %q,", o.GetNamespace(), o.GetName(), when, gateway, k)
	narrow := "narrow its match, bind it elsewhere, or use another --hosts"
	routes, _, _ := unstructured.NestedSlice(o.Object, "spec", "http")
	for i, r := range routes {
		m, _ := r.(map[string]any)
		blocks, _, _ := unstructured.NestedSlice(m, "match")
		if len(blocks) == 0 {
			blocks = []any{nil}
		}
		some, last := false, false
		for _, b := range blocks {
			bm, _ := b.(map[string]any)
			reach := blockReach(c, bm)
			switch {
			case reach == catchAll && older:
				return shadow{fmt.Sprintf("%s has %s, which matches every request; %s, so it is tried after mlcanary's header routes but before its default route, which would get no request for that host", where, DescribeRoute(i, m), mergeText),
					"give it a match, bind it elsewhere, or use another --hosts"}, notes
			case reach == reachesAll && older:
				return shadow{fmt.Sprintf("%s has %s, which matches every request to %s (--uri-prefix); %s, so it is tried before every route of mlcanary's, header routes included, and none of them would get such a request for that host", where, DescribeRoute(i, m), c.URIPrefix, mergeText), narrow}, notes
			case reach == reachesAll:
				return shadow{fmt.Sprintf("%s has %s, which matches every request to %s (--uri-prefix); %s, so it is tried before mlcanary's default route, which would get no such request for that host (only its header routes would)", where, DescribeRoute(i, m), c.URIPrefix, mergeText), narrow}, notes
			case reach == reachesSome:
				some = true
			}
			if reach == catchAll {
				last = true // Istio builds no route after a catch-all
				break
			}
		}
		switch {
		case some && older:
			notes = append(notes, fmt.Sprintf("%s has %s, which Istio tries before mlcanary's routes: requests to %s it matches never reach them", where, DescribeRoute(i, m), c.URIPrefix))
		case some:
			notes = append(notes, fmt.Sprintf("%s has %s, which Istio tries before mlcanary's default route (catch-all routes go last): requests to %s it matches that no header route of mlcanary's takes never reach it", where, DescribeRoute(i, m), c.URIPrefix))
		}
		if last {
			break
		}
	}
	return shadow{}, notes
}

// blockReach classifies match block m (nil for a route without match): the rule of shadows for
// what covers --uri-prefix (only a URI prefix, ignoreUriCase, name or statPrefix), Istio's for
// what is a catch-all, and any other block that may match a request to --uri-prefix (no URI
// condition, a prefix under it or starting it, an exact URI under it, a regex) is reachesSome.
func blockReach(c *config.Config, m map[string]any) reach {
	uri, _, _ := unstructured.NestedMap(m, "uri")
	if onlyUnnarrowing(m) {
		prefix, isPrefix := uri["prefix"].(string)
		regex, isRegex := uri["regex"].(string)
		target := c.URIPrefix
		if ic, _ := m["ignoreUriCase"].(bool); ic {
			prefix, target = strings.ToLower(prefix), strings.ToLower(target)
		}
		switch {
		case len(uri) == 0, isPrefix && (prefix == "" || prefix == "/"), isRegex && regex == ".*":
			return catchAll
		case isPrefix && strings.HasPrefix(target, prefix):
			return reachesAll
		}
	}
	if len(uri) == 0 {
		return reachesSome
	}
	target := c.URIPrefix
	for kind, v := range uri {
		s, _ := v.(string)
		if ic, _ := m["ignoreUriCase"].(bool); ic {
			s, target = strings.ToLower(s), strings.ToLower(target)
		}
		switch kind {
		case "regex":
			return reachesSome
		case "prefix":
			if strings.HasPrefix(s, target) || strings.HasPrefix(target, s) {
				return reachesSome
			}
		case "exact":
			if strings.HasPrefix(s, target) {
				return reachesSome
			}
		}
	}
	return reachesNone
}
