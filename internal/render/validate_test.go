package render

import (
	"strings"
	"testing"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/mlcanary/mlcanary/internal/config"
)

func dest(host string, w int32) *networkingv1alpha3.HTTPRouteDestination {
	return &networkingv1alpha3.HTTPRouteDestination{Destination: &networkingv1alpha3.Destination{Host: host}, Weight: w}
}

func headerMatch(k string, m *networkingv1alpha3.StringMatch) []*networkingv1alpha3.HTTPMatchRequest {
	return []*networkingv1alpha3.HTTPMatchRequest{{Headers: map[string]*networkingv1alpha3.StringMatch{k: m}}}
}

// TestValidateVirtualService: what Istio's admission webhook rejects (though its CRD schema
// accepts it) is refused before sending, and every stage's own VirtualService passes.
func TestValidateVirtualService(t *testing.T) {
	exact := &networkingv1alpha3.StringMatch{MatchType: &networkingv1alpha3.StringMatch_Exact{Exact: "blue"}}
	cases := []struct {
		name string
		http []*networkingv1alpha3.HTTPRoute
		want string
	}{
		{"negative weight", []*networkingv1alpha3.HTTPRoute{{Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 110), dest("b", -10)}}}, "weight -10 < 0"},
		{"zero total", []*networkingv1alpha3.HTTPRoute{{Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 0), dest("b", 0)}}}, "total destination weight = 0"},
		{"not 100", []*networkingv1alpha3.HTTPRoute{{Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 30), dest("b", 30)}}}, "sum to 60, not 100"},
		{"no route body", []*networkingv1alpha3.HTTPRoute{{Name: "x"}}, "HTTP route, redirect or direct_response is required"},
		{"upper-case header", []*networkingv1alpha3.HTTPRoute{{Match: headerMatch("X-Api-Version", exact), Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 0)}}}, `header "X-Api-Version" must be lower case`},
		{"empty prefix", []*networkingv1alpha3.HTTPRoute{{Match: headerMatch("x", &networkingv1alpha3.StringMatch{MatchType: &networkingv1alpha3.StringMatch_Prefix{}}), Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 0)}}}, "prefix match must not be empty"},
		{"bad regex", []*networkingv1alpha3.HTTPRoute{{Match: headerMatch("x", &networkingv1alpha3.StringMatch{MatchType: &networkingv1alpha3.StringMatch_Regex{Regex: "("}}), Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 0)}}}, "regex does not compile"},
		{"no host", []*networkingv1alpha3.HTTPRoute{{Route: []*networkingv1alpha3.HTTPRouteDestination{dest("", 100)}}}, "destination host is required"},
		{"catch-all not last", []*networkingv1alpha3.HTTPRoute{{Name: "all", Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 0)}}, {Match: headerMatch("x", exact), Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 0)}}}, `route "all": a route without match must be last`},
		{"duplicate names", []*networkingv1alpha3.HTTPRoute{{Name: "r", Match: headerMatch("x", exact), Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 0)}}, {Name: "r", Route: []*networkingv1alpha3.HTTPRouteDestination{dest("a", 0)}}}, "route names must be unique"},
		{"no routes", nil, "http, tcp or tls must be provided"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateVirtualService(&networkingv1alpha3.VirtualService{Hosts: []string{"*"}, Http: tc.http})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	c := config.Default()
	for _, r := range []Routing{
		{Headers: map[config.Version]bool{config.Blue: true}},
		{Headers: map[config.Version]bool{config.Blue: true, config.Green: true}, Weights: map[config.Version]int{config.Green: 50, config.Blue: 50}},
		{Headers: map[config.Version]bool{config.Green: true}, Weights: map[config.Version]int{config.Green: 100}},
		{Weights: map[config.Version]int{config.Green: 1, config.Blue: 99}},
	} {
		vs := VirtualService(&c, r)
		if err := ValidateVirtualService(&vs.Spec); err != nil {
			t.Errorf("generated %+v: %v", r, err)
		}
	}
}
