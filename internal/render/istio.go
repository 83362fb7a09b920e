package render

import (
	"fmt"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlcanary/mlcanary/internal/config"
)

// IstioAPIVersion is the Istio API version mlcanary writes (served since Istio 1.22).
const IstioAPIVersion = "networking.istio.io/v1"

// Names mlcanary gives its routes inside the VirtualService. Which routes are mlcanary's is
// recorded in OwnedRoutesAnnotation (see OwnedRoutes); a name alone does not make a route its.
const (
	DefaultRouteName = "mlcanary-default"
	routePrefix      = "mlcanary-"
)

// Annotations recording which list entries mlcanary itself wrote, so that entries it stops
// writing (a host or port changed by a flag) are removed while entries others added are kept.
const (
	OwnedHostsAnnotation    = "mlcanary.io/owned-hosts"
	OwnedGatewaysAnnotation = "mlcanary.io/owned-gateways"
	OwnedPortsAnnotation    = "mlcanary.io/owned-ports"
)

// HeaderRouteName is the name of the route that sends header value v to version v.
func HeaderRouteName(v config.Version) string { return routePrefix + string(v) }

// Gateway builds the ingress Gateway the VirtualService binds to.
func Gateway(c *config.Config) *networkingv1.Gateway {
	k, v, _ := strings.Cut(c.GatewaySelector, "=")
	return &networkingv1.Gateway{
		TypeMeta: metav1.TypeMeta{APIVersion: IstioAPIVersion, Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{Name: c.Gateway, Namespace: c.Namespace, Labels: map[string]string{AppLabel: c.App, ManagedByLabel: ManagedBy},
			Annotations: map[string]string{OwnedHostsAnnotation: strings.Join(c.Hosts, ","), OwnedPortsAnnotation: fmt.Sprint(c.GatewayPort)}},
		Spec: networkingv1alpha3.Gateway{
			Selector: map[string]string{k: v},
			Servers: []*networkingv1alpha3.Server{{
				Port:  &networkingv1alpha3.Port{Number: uint32(c.GatewayPort), Name: "http", Protocol: "HTTP"},
				Hosts: c.Hosts,
			}},
		},
	}
}

// Routing is the traffic a VirtualService sends: which versions have a header route, and the
// default route's weights (a version with weight 0 gets no destination in the default route).
type Routing struct {
	Headers map[config.Version]bool
	Weights map[config.Version]int
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

// References reports whether any route sends traffic to version v.
func (r Routing) References(v config.Version) bool { return r.Headers[v] || r.Weights[v] > 0 }

// Equal reports whether two routings send the same traffic.
func (r Routing) Equal(o Routing) bool {
	for _, v := range config.Versions {
		if r.Headers[v] != o.Headers[v] || r.Weights[v] != o.Weights[v] {
			return false
		}
	}
	return true
}

// VirtualService builds mlcanary's routes: one header route per version in r.Headers (blue first,
// as documented), then the weighted default route. Foreign routes are merged in by Merge.
func VirtualService(c *config.Config, r Routing) *networkingv1.VirtualService {
	vs := &networkingv1.VirtualService{
		TypeMeta: metav1.TypeMeta{APIVersion: IstioAPIVersion, Kind: "VirtualService"},
		ObjectMeta: metav1.ObjectMeta{Name: c.VirtualService, Namespace: c.Namespace, Labels: map[string]string{AppLabel: c.App, ManagedByLabel: ManagedBy},
			Annotations: map[string]string{OwnedHostsAnnotation: strings.Join(c.Hosts, ","), OwnedGatewaysAnnotation: c.Gateway}},
		Spec: networkingv1alpha3.VirtualService{
			Hosts:    c.Hosts,
			Gateways: []string{c.Gateway},
		},
	}
	for _, v := range []config.Version{config.Blue, config.Green} {
		if r.Headers[v] {
			vs.Spec.Http = append(vs.Spec.Http, headerRoute(c, v))
		}
	}
	if def := defaultRoute(c, r); def != nil {
		vs.Spec.Http = append(vs.Spec.Http, def)
	}
	var names []string
	for _, h := range vs.Spec.Http {
		names = append(names, h.Name)
	}
	vs.Annotations[OwnedRoutesAnnotation] = strings.Join(names, ",")
	return vs
}

func destination(c *config.Config, v config.Version) *networkingv1alpha3.Destination {
	return &networkingv1alpha3.Destination{
		Host: c.Objects[v].Service,
		Port: &networkingv1alpha3.PortSelector{Number: uint32(c.Port)},
	}
}

func headerRoute(c *config.Config, v config.Version) *networkingv1alpha3.HTTPRoute {
	return &networkingv1alpha3.HTTPRoute{
		Name: HeaderRouteName(v),
		Match: []*networkingv1alpha3.HTTPMatchRequest{{
			Uri: &networkingv1alpha3.StringMatch{MatchType: &networkingv1alpha3.StringMatch_Prefix{Prefix: c.URIPrefix}},
			Headers: map[string]*networkingv1alpha3.StringMatch{
				c.Header: {MatchType: &networkingv1alpha3.StringMatch_Exact{Exact: string(v)}},
			},
		}},
		Route: []*networkingv1alpha3.HTTPRouteDestination{{Destination: destination(c, v), Weight: 100}},
	}
}

func defaultRoute(c *config.Config, r Routing) *networkingv1alpha3.HTTPRoute {
	if !r.HasDefault() {
		return nil
	}
	route := &networkingv1alpha3.HTTPRoute{Name: DefaultRouteName}
	for _, v := range config.Versions {
		if w := r.Weights[v]; w > 0 {
			route.Route = append(route.Route, &networkingv1alpha3.HTTPRouteDestination{Destination: destination(c, v), Weight: int32(w)})
		}
	}
	return route
}
