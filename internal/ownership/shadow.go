package ownership

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Istio sends a request to the first route that matches it, so a route of someone else's placed
// before one of mlcanary's and matching every request that route would get leaves mlcanary's
// route dead: a stage would exit 0 routing traffic nobody can reach. mlcanary decides it
// precisely, from the match blocks alone (they are ORed): a route without match, or with a match
// block that has no condition but a URI prefix (and at most ignoreUriCase, name, statPrefix, which
// do not narrow it), matches
//   - every request when that prefix is "/" or empty (or absent): a catch-all;
//   - every request to the --uri-prefix when the prefix is a prefix of it (as a string, as Istio
//     compares prefixes): "/score" or "/sc" cover "/score".
//
// Either would shadow mlcanary's default route (it has no match and serves the --uri-prefix) and
// its header routes (the --uri-prefix and a header), whichever it came before. A match block with any
// other condition (headers, method, authority, port, gateways, sourceLabels, queryParams...), an
// exact URI, a regex other than ".*" (which Istio also counts a catch-all: IsCatchAllRoute in
// pilot/pkg/networking/core/route/route.go), or a prefix that does not cover --uri-prefix shadows
// nothing. mlcanary puts
// its header routes before everyone else's, so after a merge only its default route can be
// shadowed.

// unnarrowing are the match-block fields that do not narrow which requests it matches.
var unnarrowing = map[string]bool{"uri": true, "ignoreUriCase": true, "name": true, "statPrefix": true}

// shadows says whether route matches every request to c.URIPrefix and, if so, whether it matches
// every request at all (a catch-all), judging each match block as blockReach does (the rule
// above, and Istio's for a catch-all: also a URI regex ".*").
func shadows(c *config.Config, route map[string]any) (covers, all bool) {
	matches, _, _ := unstructured.NestedSlice(route, "match")
	if len(matches) == 0 {
		return true, true
	}
	for _, x := range matches {
		m, _ := x.(map[string]any)
		switch blockReach(c, m) {
		case catchAll:
			return true, true
		case reachesAll:
			covers = true
		}
	}
	return covers, false
}

func onlyUnnarrowing(m map[string]any) bool {
	for k := range m {
		if !unnarrowing[k] {
			return false
		}
	}
	return true
}

// shadowsDefault returns an error naming route i of someone else's (m; i is its index in the
// live VirtualService, as a person sees it) when it matches every request mlcanary's default
// route after it would get, or nil.
func shadowsDefault(c *config.Config, i int, m map[string]any) error {
	covers, catchAll := shadows(c, m)
	if !covers {
		return nil
	}
	_, why := AdoptableRole(c, m)
	if catchAll {
		return fmt.Errorf("%s is not mlcanary's (%s) and matches every request, so mlcanary's default route after it would never be used; give it a match or remove it", DescribeRoute(i, m), why)
	}
	return fmt.Errorf("%s is not mlcanary's (%s) and matches every request to %s (--uri-prefix), so mlcanary's default route after it would never get them; narrow its match or remove it", DescribeRoute(i, m), why, c.URIPrefix)
}
