package ownership

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

// GatewayShadows looks at the other VirtualServices (others, as listed) bound to mlcanary's
// Gateway, as Istio builds that Gateway's virtual hosts (vhosts.go): server is the hosts of the
// server carrying mlcanary's routes (GatewayServerHosts; nil: a server for "*"), ours mlcanary's
// VirtualService as live (nil before it exists: every other is then older).
//
//   - One whose virtual host is NARROWER than one of mlcanary's (its own audit.example.com under
//     mlcanary's "*" or "*.example.com") takes every request for that host, whatever its age or
//     routes: one note. One whose virtual hosts are wider than or disjoint from mlcanary's takes
//     nothing from it: nothing is said.
//   - One that gives the SAME virtual host shares it: Istio appends its routes oldest first, then
//     moves catch-all routes after the others (mlcanary's default route has no match, so it is
//     one; its header routes are not). So an older one's route without match (or prefix "/",
//     regex ".*") is tried after mlcanary's header routes but before its default route; an older
//     one's prefix covering --uri-prefix ("/sc" for "/score") before every route of mlcanary's; a
//     newer one's such prefix before mlcanary's default route. Either leaves the default route,
//     the split, without a request for that host (the rule for a route's match blocks is that of
//     shadows, inside mlcanary's VirtualService). A route that may match some requests to
//     --uri-prefix (a longer prefix, an exact or regex URI under it, a header or other condition)
//     takes those first: one note.
//
// When the default route loses every one of mlcanary's virtual hosts, err names the first such
// VirtualService, its route and the host, and the stage is refused; when it loses some, each is a
// note (the others still get requests). A VirtualService bound elsewhere or a delegate (no hosts)
// is not looked at, nor is anything when ours is a delegate or bound elsewhere — also not one
// bound to another Gateway on the same ingress pods and plain HTTP port, though Istio builds one
// route table per such port (pilot/pkg/model/gateway.go, gatewayRDSRouteName "http.PORT"). Ties
// of creation time are ordered by name, then namespace, as pilot sorts configs.
func GatewayShadows(c *config.Config, ours *unstructured.Unstructured, server []string, others []*unstructured.Unstructured) (notes []string, err error) {
	gateway := ResolveGateway(c.Gateway, c.Namespace)
	if ours != nil {
		if b := BindingOf(c, ours); b.Delegate || len(b.Elsewhere) > 0 {
			return nil, nil // not on mlcanary's gateway: Istio does not merge it there
		}
	}
	if server == nil {
		server = []string{"*"}
	}
	gwNS, _, _ := strings.Cut(gateway, "/")
	mine := virtualHosts(c.Hosts, server, c.Namespace, gwNS)
	lost := map[string]shadow{} // mlcanary's virtual host → why its default route gets no request there
	for _, o := range others {
		if ours != nil && o.GetNamespace() == ours.GetNamespace() && o.GetName() == ours.GetName() || !boundTo(o, gateway) {
			continue
		}
		hosts, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "hosts")
		older := ours == nil || olderThan(o, ours)
		for _, k := range virtualHosts(hosts, server, o.GetNamespace(), gwNS) {
			switch {
			case slices.Contains(mine, k):
				s, more := sharedHost(c, o, gateway, k, older)
				notes = append(notes, more...)
				if lost[k].why == "" {
					lost[k] = s
				}
			case slices.ContainsFunc(mine, func(m string) bool { return subsetOf(k, m) }):
				notes = append(notes, fmt.Sprintf("VirtualService %s/%s, bound to the same Gateway %s for host %q, gets every request for %s: Istio gives each host its own virtual host and Envoy sends a request to the most specific one, so those requests never reach mlcanary's routes (--hosts %s)",
					o.GetNamespace(), o.GetName(), gateway, k, k, strings.Join(c.Hosts, ",")))
			}
		}
	}
	all := len(mine) > 0
	for _, k := range mine {
		all = all && lost[k].why != ""
	}
	if all {
		return nil, fmt.Errorf("%s; %s", lost[mine[0]].why, lost[mine[0]].fix)
	}
	for _, k := range mine {
		if lost[k].why != "" {
			notes = append(notes, lost[k].why+"; requests for mlcanary's other hosts still reach it")
		}
	}
	return notes, nil
}

// boundTo reports whether o names gateway (namespace/name) in its gateways, in any spelling.
func boundTo(o *unstructured.Unstructured, gateway string) bool {
	gateways, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "gateways")
	return slices.ContainsFunc(gateways, func(g string) bool { return ResolveGateway(g, o.GetNamespace()) == gateway })
}

// olderThan orders a before b as pilot sorts configs: creation time, then name, then namespace.
func olderThan(a, b *unstructured.Unstructured) bool {
	ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	switch {
	case !ta.Equal(&tb):
		return ta.Before(&tb)
	case a.GetName() != b.GetName():
		return a.GetName() < b.GetName()
	}
	return a.GetNamespace() < b.GetNamespace()
}
