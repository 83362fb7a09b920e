package render

import (
	"fmt"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// IstioAPIVersion is the Istio API version mlcanary writes (served since Istio 1.22).
const IstioAPIVersion = "networking.istio.io/v1"

// Gateway builds the ingress Gateway the VirtualService binds to.
func Gateway(c *config.Config) *networkingv1.Gateway {
	k, v, _ := strings.Cut(c.GatewaySelector, "=")
	return &networkingv1.Gateway{
		TypeMeta: metav1.TypeMeta{APIVersion: IstioAPIVersion, Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{Name: c.Gateway, Namespace: c.Namespace, Labels: map[string]string{config.AppLabel: c.App, config.ManagedByLabel: config.ManagedBy},
			Annotations: map[string]string{routing.OwnedHostsAnnotation: strings.Join(c.Hosts, ","), routing.OwnedPortsAnnotation: fmt.Sprint(c.GatewayPort)}},
		Spec: networkingv1alpha3.Gateway{
			Selector: map[string]string{k: v},
			Servers: []*networkingv1alpha3.Server{{
				Port:  &networkingv1alpha3.Port{Number: uint32(c.GatewayPort), Name: "http", Protocol: "HTTP"},
				Hosts: c.Hosts,
			}},
		},
	}
}

// VirtualService builds mlcanary's routes: one header route per version in r.Headers (blue first,
// as documented), then the weighted default route, which mirrors r.Mirror% of its requests to blue
// when r.Mirrored (recorded in routing.OwnedMirrorAnnotation). Foreign routes are merged in by ownership.MergeVirtualService.
func VirtualService(c *config.Config, r routing.Routing) *networkingv1.VirtualService {
	vs := &networkingv1.VirtualService{
		TypeMeta: metav1.TypeMeta{APIVersion: IstioAPIVersion, Kind: "VirtualService"},
		ObjectMeta: metav1.ObjectMeta{Name: c.VirtualService, Namespace: c.Namespace, Labels: map[string]string{config.AppLabel: c.App, config.ManagedByLabel: config.ManagedBy},
			Annotations: map[string]string{routing.OwnedHostsAnnotation: strings.Join(c.Hosts, ","), routing.OwnedGatewaysAnnotation: c.Gateway}},
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
	vs.Annotations[routing.OwnedRoutesAnnotation] = strings.Join(names, ",")
	if r.Mirrored() {
		vs.Annotations[routing.OwnedMirrorAnnotation] = routing.DefaultRouteName
	}
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
		Name: routing.HeaderRouteName(v),
		Match: []*networkingv1alpha3.HTTPMatchRequest{{
			Uri: &networkingv1alpha3.StringMatch{MatchType: &networkingv1alpha3.StringMatch_Prefix{Prefix: c.URIPrefix}},
			Headers: map[string]*networkingv1alpha3.StringMatch{
				c.Header: {MatchType: &networkingv1alpha3.StringMatch_Exact{Exact: string(v)}},
			},
		}},
		Route: []*networkingv1alpha3.HTTPRouteDestination{{Destination: destination(c, v), Weight: 100}},
	}
}

func defaultRoute(c *config.Config, r routing.Routing) *networkingv1alpha3.HTTPRoute {
	if !r.HasDefault() {
		return nil
	}
	route := &networkingv1alpha3.HTTPRoute{Name: routing.DefaultRouteName}
	for _, v := range config.Versions {
		if w := r.Weights[v]; w > 0 {
			route.Route = append(route.Route, &networkingv1alpha3.HTTPRouteDestination{Destination: destination(c, v), Weight: int32(w)})
		}
	}
	if r.Mirrored() {
		route.Mirror = destination(c, config.Blue)
		route.MirrorPercentage = &networkingv1alpha3.Percent{Value: float64(r.Mirror)}
	}
	return route
}
