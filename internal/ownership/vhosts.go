package ownership

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// How Istio turns the VirtualServices bound to a Gateway into Envoy virtual hosts, and how Envoy
// picks one for a request (istio/istio pilot/pkg/networking/core/gateway.go,
// buildGatewayHTTPRouteConfig; pkg/config/host/names.go, Names.Intersection; pkg/config/host/name.go,
// Name.SubsetOf; Envoy's RouteConfiguration virtual_hosts "domains" search order):
//
//   - For each VirtualService and each host of the server it reaches (a server host "ns/name"
//     only for namespace ns), every pair of a server host and a VirtualService host where one is
//     a subset of the other gives one virtual host, named by the narrower of the two, lowercased.
//     On a server for "*", that is each of the VirtualService's own hosts.
//   - VirtualServices that give the SAME name share that one virtual host (vHostDedupMap): their
//     routes are appended in the order pilot lists them (creation time, oldest first), then
//     route.SortVHostRoutes moves every catch-all route (a prefix "/" or regex ".*" match without
//     header, method, authority or query conditions; a route without match is one) after all the
//     others, keeping their order. Nothing else is merged: a VirtualService for "*" adds no route
//     to the virtual host of "audit.example.com", nor the other way round.
//   - Envoy sends a request to ONE virtual host, the most specific whose domain matches its Host:
//     an exact name, else the longest "*." suffix, else "*". So a VirtualService for
//     audit.example.com takes every request for that host from mlcanary's routes for "*", whatever
//     its age or its routes (a request no route of that virtual host matches gets a 404), and
//     leaves mlcanary every other host; one for "*.example.com" leaves mlcanary's routes for
//     model.example.com alone.

// virtualHosts returns the names of the virtual hosts Istio gives a VirtualService of namespace
// vsNS with hosts on a Gateway (namespace gwNS) server serving server (its hosts as written,
// "ns/name" allowed), each once, lowercased, in Istio's order (Names.Intersection of the server's
// hosts with the VirtualService's).
func virtualHosts(hosts, server []string, vsNS, gwNS string) []string {
	var out []string
	for _, s := range server {
		name, ok := serverHostAdmits(s, vsNS, gwNS)
		if !ok {
			continue
		}
		for _, h := range hosts {
			var k string
			switch {
			case subsetOf(name, h):
				k = name
			case subsetOf(h, name):
				k = h
			default:
				continue
			}
			if k = strings.ToLower(k); !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// subsetOf is Istio's Name.SubsetOf: every name n matches, o matches too ("*" contains everything,
// "*.example.com" contains a.example.com and *.a.example.com, a name only itself).
func subsetOf(n, o string) bool {
	nw, ow := strings.HasPrefix(n, "*"), strings.HasPrefix(o, "*")
	switch {
	case nw && ow:
		return len(n) >= len(o) && strings.HasSuffix(n[1:], o[1:])
	case nw:
		return false
	case ow:
		return strings.HasSuffix(n, o[1:])
	}
	return n == o
}

// GatewayServerHosts returns the hosts of the server on --gateway-port that carries mlcanary's
// routes, as written ("ns/name" allowed): those of every server of gateway (mlcanary's Gateway
// as live, nil when absent) on that port, plus --hosts when mlcanary writes that server (it is
// absent, or the port is recorded in routing.OwnedPortsAnnotation), as MergeGateway does. It
// returns nil for a Gateway in another namespace (--gateway NAMESPACE/NAME), which a stage does
// not read: GatewayShadows then takes a server for "*", on which each VirtualService host is its
// own virtual host.
func GatewayServerHosts(c *config.Config, gateway *unstructured.Unstructured) []string {
	if _, _, external := c.GatewayRef(); external {
		return nil
	}
	var out []string
	found := false
	if gateway != nil {
		servers, _, _ := unstructured.NestedSlice(gateway.Object, "spec", "servers")
		for _, s := range servers {
			m, _ := s.(map[string]any)
			if p, _, _ := unstructured.NestedInt64(m, "port", "number"); p != int64(c.GatewayPort) {
				continue
			}
			found = true
			hosts, _, _ := unstructured.NestedStringSlice(m, "hosts")
			out = append(out, hosts...)
		}
	}
	if !found || slices.Contains(owned(gateway, routing.OwnedPortsAnnotation), fmt.Sprint(c.GatewayPort)) {
		for _, h := range c.Hosts {
			if !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	return out
}
