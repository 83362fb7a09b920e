package ownership

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/admission"
	"github.com/mlcanary/mlcanary/internal/config"
)

// GatewayShadows looks at the other VirtualServices (others, as listed) that Istio merges with
// mlcanary's on its gateway: for a gateway, "the VirtualServices bound to it for the same host are
// merged into one route table, ordered by creation time, the oldest first"
// (https://istio.io/latest/docs/ops/best-practices/traffic-management/#split-virtual-services;
// ties by name, then namespace, as pilot sorts configs). A route of such an older VirtualService
// (bound to the same Gateway, with a host overlapping one of --hosts, admission.HostsOverlap) is
// tried before every route of mlcanary's. With the same rule as inside mlcanary's own
// VirtualService (shadows): one without match, or matching every request to --uri-prefix, leaves
// all of mlcanary's routes — header routes and default route — unreachable; the stage is refused,
// err naming the VirtualService, its route and the host. A route that may match some of the
// requests to --uri-prefix (a longer prefix, an exact or regex URI under it, a header or other
// condition) takes those requests first: one note each. ours is mlcanary's VirtualService as live
// (nil before it exists: every other is then older). A VirtualService bound elsewhere, a delegate
// (no hosts) or one newer than ours is not looked at.
func GatewayShadows(c *config.Config, ours *unstructured.Unstructured, others []*unstructured.Unstructured) (notes []string, err error) {
	gateway := ResolveGateway(c.Gateway, c.Namespace)
	if ours != nil {
		if b := BindingOf(c, ours); b.Delegate || len(b.Elsewhere) > 0 {
			return nil, nil // not on mlcanary's gateway: Istio does not merge it there
		}
	}
	for _, o := range others {
		if ours != nil && (o.GetNamespace() == ours.GetNamespace() && o.GetName() == ours.GetName() || !olderThan(o, ours)) {
			continue
		}
		host := sharedHost(c, o, gateway)
		if host == "" {
			continue
		}
		routes, _, _ := unstructured.NestedSlice(o.Object, "spec", "http")
		for i, r := range routes {
			m, _ := r.(map[string]any)
			where := fmt.Sprintf("VirtualService %s/%s, created before mlcanary's and bound to the same Gateway %s for host %q,", o.GetNamespace(), o.GetName(), gateway, host)
			covers, catchAll := shadows(c, m)
			switch {
			case catchAll:
				return nil, fmt.Errorf("%s has %s, which matches every request; Istio merges the VirtualServices of one gateway host oldest first, so no request would reach mlcanary's routes; give it a match, bind it elsewhere, or use another --hosts", where, DescribeRoute(i, m))
			case covers:
				return nil, fmt.Errorf("%s has %s, which matches every request to %s (--uri-prefix); Istio merges the VirtualServices of one gateway host oldest first, so none of them would reach mlcanary's routes; narrow its match, bind it elsewhere, or use another --hosts", where, DescribeRoute(i, m), c.URIPrefix)
			case mayMatch(c, m):
				notes = append(notes, fmt.Sprintf("%s has %s, which Istio tries before mlcanary's routes: requests to %s it matches never reach them", where, DescribeRoute(i, m), c.URIPrefix))
			}
		}
	}
	return notes, nil
}

// sharedHost is the first of o's hosts that overlaps one of --hosts when o is bound to gateway
// (namespace/name), else "".
func sharedHost(c *config.Config, o *unstructured.Unstructured, gateway string) string {
	gateways, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "gateways")
	if !slices.ContainsFunc(gateways, func(g string) bool { return ResolveGateway(g, o.GetNamespace()) == gateway }) {
		return ""
	}
	hosts, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "hosts")
	for _, h := range hosts {
		for _, ours := range c.Hosts {
			if admission.HostsOverlap(h, ours) {
				return h
			}
		}
	}
	return ""
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

// mayMatch reports whether some match block of route may match a request to --uri-prefix: it has
// no URI condition, or a prefix or exact URI under --uri-prefix (or one it starts), or a regex.
func mayMatch(c *config.Config, route map[string]any) bool {
	matches, _, _ := unstructured.NestedSlice(route, "match")
	for _, x := range matches {
		m, _ := x.(map[string]any)
		uri, _, _ := unstructured.NestedMap(m, "uri")
		if len(uri) == 0 {
			return true
		}
		for kind, v := range uri {
			s, _ := v.(string)
			if kind == "regex" || strings.HasPrefix(s, c.URIPrefix) || strings.HasPrefix(c.URIPrefix, s) {
				return true
			}
		}
	}
	return false
}
