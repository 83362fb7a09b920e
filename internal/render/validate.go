package render

import (
	"fmt"
	"regexp"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// Istio's API server schema accepts things its admission webhook rejects (a negative weight, for
// one), so everything mlcanary sends is checked here against the webhook's rules
// (istio/istio pkg/config/validation: validateHTTPRoute, validateHTTPRouteDestinations,
// validateStringMatch) plus the portable rule that weights sum to exactly 100.

var headerKey = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// ValidateVirtualService returns the first rule the spec breaks, naming the route.
func ValidateVirtualService(vs *networkingv1alpha3.VirtualService) error {
	if len(vs.Hosts) == 0 { // a delegate, which a root VirtualService hands requests to
		if len(vs.Gateways) != 0 || len(vs.Tcp) != 0 || len(vs.Tls) != 0 {
			return fmt.Errorf("a delegate VirtualService (no hosts) must have no gateways, tcp or tls routes")
		}
	}
	if len(vs.Http) == 0 && len(vs.Tcp) == 0 && len(vs.Tls) == 0 {
		return fmt.Errorf("http, tcp or tls must be provided in a VirtualService")
	}
	names := map[string]bool{}
	for i, r := range vs.Http {
		where := fmt.Sprintf("http[%d]", i)
		if r.Name != "" {
			where = fmt.Sprintf("route %q", r.Name)
			if names[r.Name] {
				return fmt.Errorf("%s: route names must be unique", where)
			}
			names[r.Name] = true
		}
		if err := validateRoute(r); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if len(r.Match) == 0 && i != len(vs.Http)-1 {
			return fmt.Errorf("%s: a route without match must be last, or the routes after it never match", where)
		}
	}
	return nil
}

func validateRoute(r *networkingv1alpha3.HTTPRoute) error {
	if len(r.Route) == 0 && r.Redirect == nil && r.DirectResponse == nil && r.Delegate == nil {
		return fmt.Errorf("HTTP route, redirect or direct_response is required")
	}
	for _, m := range r.Match {
		if err := validateMatch(m); err != nil {
			return err
		}
	}
	return validateDestinations(r.Route)
}

func validateMatch(m *networkingv1alpha3.HTTPMatchRequest) error {
	for k, v := range m.Headers {
		if !headerKey.MatchString(k) {
			return fmt.Errorf("header %q must be lower case letters, digits and '-'", k)
		}
		if err := validateStringMatch(k, v); err != nil {
			return err
		}
	}
	return nil
}

func validateStringMatch(what string, s *networkingv1alpha3.StringMatch) error {
	switch t := s.GetMatchType().(type) {
	case *networkingv1alpha3.StringMatch_Prefix:
		if t.Prefix == "" {
			return fmt.Errorf("%s: prefix match must not be empty", what)
		}
	case *networkingv1alpha3.StringMatch_Regex:
		if len(t.Regex) > 1024 {
			return fmt.Errorf("%s: regex longer than 1024 characters", what)
		}
		if _, err := regexp.Compile(t.Regex); err != nil {
			return fmt.Errorf("%s: regex does not compile: %w", what, err)
		}
	}
	return nil
}

func validateDestinations(ds []*networkingv1alpha3.HTTPRouteDestination) error {
	total := 0
	for _, d := range ds {
		if d.Destination == nil || d.Destination.Host == "" {
			return fmt.Errorf("destination host is required")
		}
		if p := d.Destination.Port; p != nil && (p.Number == 0 || p.Number > 65535) {
			return fmt.Errorf("destination %s: port %d out of range 1..65535", d.Destination.Host, p.Number)
		}
		if d.Weight < 0 {
			return fmt.Errorf("destination %s: weight %d < 0", d.Destination.Host, d.Weight)
		}
		total += int(d.Weight)
	}
	if len(ds) > 1 && total == 0 {
		return fmt.Errorf("total destination weight = 0")
	}
	if len(ds) > 1 && total != 100 {
		return fmt.Errorf("destination weights sum to %d, not 100 (Istio before 1.15 rejects that)", total)
	}
	return nil
}
