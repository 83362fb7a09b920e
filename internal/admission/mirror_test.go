package admission

import (
	"strings"
	"testing"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// TestMirrorRules: Istio's rules for a route's mirrors (tools/istiovalidate compares them with
// Istio's own code): the share 0–100, `mirror` and `mirrors` not both, each mirror destination a
// valid host (not `*`), subset and port; a route's mirror is checked whoever wrote it.
func TestMirrorRules(t *testing.T) {
	blue := &networkingv1alpha3.Destination{Host: "model-svc-blue", Port: &networkingv1alpha3.PortSelector{Number: 5001}}
	pct := func(v float64) *networkingv1alpha3.Percent { return &networkingv1alpha3.Percent{Value: v} }
	cases := []struct {
		name    string
		set     func(r *networkingv1alpha3.HTTPRoute)
		refused string // "" when admitted
	}{
		{"Shadow_10's mirror", func(r *networkingv1alpha3.HTTPRoute) { r.Mirror, r.MirrorPercentage = blue, pct(10) }, ""},
		{"100%", func(r *networkingv1alpha3.HTTPRoute) { r.Mirror, r.MirrorPercentage = blue, pct(100) }, ""},
		{"0% and a fraction", func(r *networkingv1alpha3.HTTPRoute) { r.Mirror, r.MirrorPercentage = blue, pct(0.5) }, ""},
		{"no percentage (all)", func(r *networkingv1alpha3.HTTPRoute) { r.Mirror = blue }, ""},
		{"over 100", func(r *networkingv1alpha3.HTTPRoute) { r.Mirror, r.MirrorPercentage = blue, pct(100.5) }, "mirror_percentage must have a max value of 100"},
		{"negative", func(r *networkingv1alpha3.HTTPRoute) { r.Mirror, r.MirrorPercentage = blue, pct(-1) }, "mirror_percentage must have a min value of 0"},
		{"deprecated mirrorPercent over 100", func(r *networkingv1alpha3.HTTPRoute) {
			r.Mirror = blue
			if err := r.UnmarshalJSON([]byte(`{"mirrorPercent":101}`)); err != nil { // without importing protobuf's wrappers
				t.Fatal(err)
			}
		}, "mirror_percent must have a max value of 100"},
		{"mirror and mirrors", func(r *networkingv1alpha3.HTTPRoute) {
			r.Mirror, r.Mirrors = blue, []*networkingv1alpha3.HTTPMirrorPolicy{{Destination: blue}}
		}, "cannot contain both mirror and mirrors"},
		{"mirror host *", func(r *networkingv1alpha3.HTTPRoute) { r.Mirror = &networkingv1alpha3.Destination{Host: "*"} }, "invalid destination host *"},
		{"mirror host invalid", func(r *networkingv1alpha3.HTTPRoute) { r.Mirror = &networkingv1alpha3.Destination{Host: "model_svc"} }, "mirror: domain name"},
		{"mirror port 0", func(r *networkingv1alpha3.HTTPRoute) {
			r.Mirror = &networkingv1alpha3.Destination{Host: "model-svc-blue", Port: &networkingv1alpha3.PortSelector{}}
		}, "port number 0"},
		{"mirror subset invalid", func(r *networkingv1alpha3.HTTPRoute) {
			r.Mirror = &networkingv1alpha3.Destination{Host: "model-svc-blue", Subset: "V_1"}
		}, "subset name is invalid"},
		{"mirrors fine", func(r *networkingv1alpha3.HTTPRoute) {
			r.Mirrors = []*networkingv1alpha3.HTTPMirrorPolicy{{Destination: blue, Percentage: pct(5)}, {Destination: &networkingv1alpha3.Destination{Host: "audit.tools.svc.cluster.local"}}}
		}, ""},
		{"mirrors without destination", func(r *networkingv1alpha3.HTTPRoute) {
			r.Mirrors = []*networkingv1alpha3.HTTPMirrorPolicy{{Percentage: pct(5)}}
		}, "mirrors[0]: destination is required for mirrors"},
		{"mirrors over 100", func(r *networkingv1alpha3.HTTPRoute) {
			r.Mirrors = []*networkingv1alpha3.HTTPMirrorPolicy{{Destination: blue, Percentage: pct(101)}}
		}, "mirrors[0]: mirror percentage must have a max value of 100"},
	}
	for _, c := range cases {
		route := &networkingv1alpha3.HTTPRoute{Name: "mlcanary-default", Route: []*networkingv1alpha3.HTTPRouteDestination{
			{Destination: &networkingv1alpha3.Destination{Host: "model-svc-green"}, Weight: 100}}}
		c.set(route)
		vs := &networkingv1alpha3.VirtualService{Hosts: []string{"*"}, Gateways: []string{"mlmodel-gateway"}, Http: []*networkingv1alpha3.HTTPRoute{route}}
		err := VirtualService(vs)
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.refused != "" && (err == nil || !strings.Contains(err.Error(), c.refused) || !strings.Contains(err.Error(), `route "mlcanary-default"`)):
			t.Errorf("%s: %v; want a refusal naming the route and %q", c.name, err, c.refused)
		}
	}
}
