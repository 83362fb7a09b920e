// Package routing is mlcanary's routing vocabulary, shared by plan (what a stage decides), render
// (the objects that carry it), live (what the cluster holds) and engine: the traffic a
// VirtualService sends (Routing), how it receives traffic (Binding), the names of mlcanary's routes,
// the annotations recording which entries are mlcanary's, and a Reference to a version's Service
// from a route mlcanary does not manage. It depends on config only.
package routing

import (
	"fmt"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Names mlcanary gives its routes inside the VirtualService. Which routes are mlcanary's is
// recorded in OwnedRoutesAnnotation (see ownership.OwnedRoutes); a name alone does not make a route its.
const (
	DefaultRouteName = "mlcanary-default"
	RoutePrefix      = "mlcanary-"
)

// Annotations recording which entries of the VirtualService and the Gateway mlcanary itself
// wrote (comma-separated), so that entries it stops writing (a route, host, gateway or port changed
// by a flag) are removed while entries others added are kept. render writes them; package ownership
// reads them back.
const (
	// OwnedRoutesAnnotation records the names of the HTTP routes mlcanary wrote, e.g.
	// "mlcanary-blue,mlcanary-green,mlcanary-default". A route is mlcanary's because it is recorded
	// here or because mlcanary adopts it (ownership.AdoptableRole), never because of its name alone: a
	// route someone names "mlcanary-foo" stays theirs.
	OwnedRoutesAnnotation   = "mlcanary.io/owned-routes"
	OwnedHostsAnnotation    = "mlcanary.io/owned-hosts"
	OwnedGatewaysAnnotation = "mlcanary.io/owned-gateways"
	// OwnedPortsAnnotation records the Gateway server port mlcanary created (only one it created).
	OwnedPortsAnnotation = "mlcanary.io/owned-ports"
	// OwnedMirrorAnnotation records that the mirror (`mirror` and `mirrorPercentage`) of the route
	// it names — always DefaultRouteName — is mlcanary's: Shadow_N wrote it. A mirror on that route
	// without the record is someone else's; mlcanary keeps it and never replaces it.
	OwnedMirrorAnnotation = "mlcanary.io/owned-mirror"
)

// HeaderRouteName is the name of the route that sends header value v to version v.
func HeaderRouteName(v config.Version) string { return RoutePrefix + string(v) }

// Routing is the traffic a VirtualService sends: which versions have a header route, the default
// route's weights (a version with weight 0 gets no destination in the default route), and the share
// of the default route's requests it also mirrors to blue.
type Routing struct {
	Headers map[config.Version]bool
	Weights map[config.Version]int
	// Mirror is the percentage (0..100) of the default route's requests that are also sent to blue,
	// whose answers are discarded (Istio's mirror + mirrorPercentage; Shadow_N); 0 for none. Only
	// a default route that exists mirrors.
	Mirror int
}

// NewRouting builds a Routing from which versions have a header route and the default weights.
func NewRouting(greenHeader, blueHeader bool, green, blue int) Routing {
	return Routing{
		Headers: map[config.Version]bool{config.Green: greenHeader, config.Blue: blueHeader},
		Weights: map[config.Version]int{config.Green: green, config.Blue: blue},
	}
}

// HasDefault reports whether the default route sends traffic anywhere.
func (r Routing) HasDefault() bool { return r.Weights[config.Green]+r.Weights[config.Blue] > 0 }

// Mirrored reports whether the default route mirrors requests to blue.
func (r Routing) Mirrored() bool { return r.Mirror > 0 && r.HasDefault() }

// References reports whether any route sends traffic to version v, a mirror included: a mirror's
// destination gets real requests, so make-before-break applies to it as to a route.
func (r Routing) References(v config.Version) bool {
	return r.Headers[v] || r.Weights[v] > 0 || v == config.Blue && r.Mirrored()
}

// Equal reports whether two routings send the same traffic.
func (r Routing) Equal(o Routing) bool {
	if r.Mirror != o.Mirror {
		return false
	}
	for _, v := range config.Versions {
		if r.Headers[v] != o.Headers[v] || r.Weights[v] != o.Weights[v] {
			return false
		}
	}
	return true
}

// Reference is one place in a VirtualService that sends traffic to a version's Service and that
// mlcanary does not manage, so it cannot take that traffic away: a route someone else added to its
// own VirtualService, a mirror, or any route of another VirtualService.
type Reference struct {
	// Kind is the kind of the object that holds the route when it is not a VirtualService
	// ("Ingress", "HTTPRoute", …; IngressReferences, GatewayRouteReferences); "" for one.
	Kind string
	// Namespace and VirtualService name the object that holds the route (a VirtualService unless
	// Kind says otherwise).
	Namespace, VirtualService string
	// Route is the route's name, else its place, e.g. "http[2]" or "tcp[0]".
	Route string
	// Mirror is true when the route mirrors traffic to the Service rather than routing it there.
	Mirror bool
	// Manager says who manages the object besides mlcanary ("Helm release qa, field manager
	// helm"; ownership.Manager), "" when unknown.
	Manager string
}

// String reads "route qa-blue of VirtualService team/scorer-internal" (" (as a mirror)" for a
// mirror; "route path /legacy of Ingress team/legacy" for another kind).
func (r Reference) String() string {
	kind := r.Kind
	if kind == "" {
		kind = "VirtualService"
	}
	s := fmt.Sprintf("route %s of %s %s/%s", r.Route, kind, r.Namespace, r.VirtualService)
	if r.Mirror {
		s += " (as a mirror)"
	}
	return s
}

// Managed reads "VirtualService qa/qa-routes is managed by Helm release qa, field manager helm",
// "" when the Manager is not known.
func (r Reference) Managed() string {
	if r.Manager == "" {
		return ""
	}
	kind := r.Kind
	if kind == "" {
		kind = "VirtualService"
	}
	return fmt.Sprintf("%s %s/%s is managed by %s", kind, r.Namespace, r.VirtualService, r.Manager)
}
