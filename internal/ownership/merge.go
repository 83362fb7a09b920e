package ownership

import (
	"fmt"
	"slices"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/admission"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

func destinationHost(d any) string {
	m, _ := d.(map[string]any)
	h, _, _ := unstructured.NestedString(m, "destination", "host")
	return h
}

// MergeVirtualService puts mlcanary's routes (desired's spec.http, as rendered by render.VirtualService) into the live
// VirtualService's routes (see mergeRoutes: fields mlcanary does not own survive, also on a route
// it re-adds that start — the VirtualService when the stage decided, or nil — had; routes of
// others are kept) and keeps hosts and gateways someone else added. All arguments are
// VirtualService objects; desired changes. It fails, naming the route, when a route of someone else's would
// break mlcanary's.
func MergeVirtualService(c *config.Config, desired, live, start *unstructured.Unstructured) error {
	ours, _, err := unstructured.NestedSlice(desired.Object, "spec", "http")
	if err != nil {
		return fmt.Errorf("reading desired routes: %w", err)
	}
	merged, err := mergeRoutes(c, ours, live, start)
	if err != nil {
		return err
	}
	if err := unstructured.SetNestedSlice(desired.Object, merged, "spec", "http"); err != nil {
		return err
	}
	if live != nil {
		keepForeignStrings(desired.Object, live.Object, owned(live, routing.OwnedHostsAnnotation), "spec", "hosts")
		keepForeignGateways(desired, live, owned(live, routing.OwnedGatewaysAnnotation))
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

// MergeGateway keeps what someone else owns on the Gateway. On the server mlcanary created (its
// port is recorded in routing.OwnedPortsAnnotation) it sets only the port and its hosts, keeping every
// other field (tls.httpsRedirect, say) and hosts someone added. A server someone else defined on
// mlcanary's port is kept exactly as it is and is not recorded as mlcanary's; it must already
// serve mlcanary's hosts, or MergeGateway fails naming it. Servers on other ports are kept unless
// mlcanary recorded writing them (a port it moved away from). On a Gateway mlcanary did not
// create, the selector is never set. desired changes.
func MergeGateway(desired, live *unstructured.Unstructured) error {
	if live == nil {
		return nil
	}
	if Adopted(live) {
		unstructured.RemoveNestedField(desired.Object, "spec", "selector")
	}
	ours, _, _ := unstructured.NestedSlice(desired.Object, "spec", "servers")
	wasOurs := owned(live, routing.OwnedPortsAnnotation)
	theirs, _, _ := unstructured.NestedSlice(live.Object, "spec", "servers")
	ann := desired.GetAnnotations()
	for _, s := range theirs {
		m, _ := s.(map[string]any)
		p, _, _ := unstructured.NestedInt64(m, "port", "number")
		i := serverOnPort(ours, p)
		switch {
		case i >= 0 && slices.Contains(wasOurs, fmt.Sprint(p)):
			mine := ours[i].(map[string]any)
			server := runtimeCopy(m)
			server["port"], server["hosts"] = mine["port"], mine["hosts"]
			keepForeignStrings(server, m, owned(live, routing.OwnedHostsAnnotation), "hosts")
			ours[i] = server
		case i >= 0: // someone else's server on mlcanary's port: used as it is
			want, _, _ := unstructured.NestedStringSlice(ours[i].(map[string]any), "hosts")
			have, _, _ := unstructured.NestedStringSlice(m, "hosts")
			// The Gateway mlcanary renders is in the release's namespace, as its VirtualService is.
			if !overlaps(want, have, desired.GetNamespace(), live.GetNamespace()) {
				return fmt.Errorf("Gateway %s/%s: the server on port %d is not mlcanary's and serves hosts %v, none of which is among %v that mlcanary routes (--hosts)%s, so no request through it would reach mlcanary's routes; add them to that server, or use another --gateway or --gateway-port",
					live.GetNamespace(), live.GetName(), p, have, want, namespaceNote(have, desired.GetNamespace()))
			}
			if err := servesHTTPRoutes(m); err != nil {
				return fmt.Errorf("Gateway %s/%s: the %w, so no request through it would reach mlcanary's routes; give --gateway-port the port of an HTTP server or of an HTTPS server that terminates TLS",
					live.GetNamespace(), live.GetName(), err)
			}
			ours[i] = m
			delete(ann, routing.OwnedPortsAnnotation)
		case !slices.Contains(wasOurs, fmt.Sprint(p)):
			ours = append(ours, m)
		}
	}
	desired.SetAnnotations(ann)
	return unstructured.SetNestedSlice(desired.Object, ours, "spec", "servers")
}

// servesHTTPRoutes applies admission.ServesHTTPRoutes to a server as the API server returns it.
func servesHTTPRoutes(server map[string]any) error {
	var s networkingv1alpha3.Server
	if remarshal(server, &s) != nil {
		return nil // not a server Istio reads; admission.Gateway names what is wrong with it
	}
	return admission.ServesHTTPRoutes(&s)
}

// overlaps reports whether a request for some host of want, routed by a VirtualService of
// namespace vsNS, can reach a Gateway server of namespace gwNS serving hosts have, as Istio
// matches them: the server host's namespace part must admit vsNS (serverHostAdmits), and then the
// names must be equal, "*", or a "*." wildcard on either side.
func overlaps(want, have []string, vsNS, gwNS string) bool {
	for _, w := range want {
		for _, h := range have {
			name, ok := serverHostAdmits(h, vsNS, gwNS)
			if ok && admission.HostsOverlap(w, name) {
				return true
			}
		}
	}
	return false
}

// namespaceNote explains, when a server host is namespace-qualified, that it must admit the
// VirtualService's namespace ns.
func namespaceNote(have []string, ns string) string {
	for _, h := range have {
		if strings.Contains(h, "/") {
			return fmt.Sprintf(" for namespace %s (Istio reads a server host ns/name as serving only VirtualServices of namespace ns, ./name those of the Gateway's own namespace)", ns)
		}
	}
	return ""
}

// serverHostAdmits reads a Gateway server host as Istio does (Server.hosts): "ns/name" serves
// only VirtualServices of namespace ns, "./name" only those of the Gateway's own namespace gwNS,
// "*/name" and a plain "name" (short for "*/name") those of every namespace. It returns the
// name part and whether a VirtualService of namespace vsNS may bind to it.
func serverHostAdmits(host, vsNS, gwNS string) (name string, ok bool) {
	ns, name, qualified := strings.Cut(host, "/")
	if !qualified {
		return host, true
	}
	switch ns {
	case "*":
		return name, true
	case ".":
		return name, vsNS == gwNS
	}
	return name, ns == vsNS
}

// renameOnCollision gives mlcanary's server (servers[0]) the name http-PORT when another server
// already has its name: Istio rejects two servers with the same port name. Only a server mlcanary
// writes is renamed (its port stays recorded in routing.OwnedPortsAnnotation); someone else's is used as is.
func renameOnCollision(desired *unstructured.Unstructured) {
	servers, _, _ := unstructured.NestedSlice(desired.Object, "spec", "servers")
	if _, mine := desired.GetAnnotations()[routing.OwnedPortsAnnotation]; !mine || len(servers) < 2 {
		return
	}
	defer func() { _ = unstructured.SetNestedSlice(desired.Object, servers, "spec", "servers") }()
	ours := servers[0].(map[string]any)
	name, _, _ := unstructured.NestedString(ours, "port", "name")
	for _, s := range servers[1:] {
		if n, _, _ := unstructured.NestedString(s.(map[string]any), "port", "name"); n == name {
			p, _, _ := unstructured.NestedInt64(ours, "port", "number")
			_ = unstructured.SetNestedField(ours, fmt.Sprintf("%s-%d", name, p), "port", "name")
			return
		}
	}
}

func serverOnPort(servers []any, port int64) int {
	for i, s := range servers {
		if p, _, _ := unstructured.NestedInt64(s.(map[string]any), "port", "number"); p == port {
			return i
		}
	}
	return -1
}
