package admission

import (
	"fmt"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// istioMirror is the mirror part of Istio's validateHTTPRoute (pkg/config/validation
// virtualservice.go, Istio ≥ 1.20): mirrorPercentage is 0–100 (a fraction is allowed), the
// deprecated mirrorPercent at most 100; the `mirror` destination and each `mirrors` entry's (which
// must have one) is a destination as in a route — a host other than `*` that is a domain name whose
// first label may be a wildcard, a DNS-label subset, a port selector 1–65535 — and each entry's
// percentage is 0–100. That a route has not both `mirror` and `mirrors` is istioRouteConflict's.
// mlcanary writes `mirror` + `mirrorPercentage` on its default route (Shadow_N); everyone else's
// mirrors are checked by the same rules, as the webhook checks the whole VirtualService.
func istioMirror(r *networkingv1alpha3.HTTPRoute) error {
	if p := r.MirrorPercent; p != nil && p.GetValue() > 100 { //nolint:staticcheck // Istio still checks the deprecated field
		return fmt.Errorf("mirror_percent must have a max value of 100 (it has %d)", p.GetValue()) //nolint:staticcheck // as above
	}
	if p := r.MirrorPercentage; p != nil {
		if err := istioPercent("mirror_percentage", p.GetValue()); err != nil {
			return err
		}
	}
	if err := istioDestination(r.Mirror); err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	for i, m := range r.Mirrors {
		switch {
		case m == nil:
			return fmt.Errorf("mirrors[%d]: mirror cannot be null", i)
		case m.Destination == nil:
			return fmt.Errorf("mirrors[%d]: destination is required for mirrors", i)
		}
		if err := istioDestination(m.Destination); err != nil {
			return fmt.Errorf("mirrors[%d]: %w", i, err)
		}
		if p := m.Percentage; p != nil {
			if err := istioPercent("mirror percentage", p.GetValue()); err != nil {
				return fmt.Errorf("mirrors[%d]: %w", i, err)
			}
		}
	}
	return nil
}

func istioPercent(what string, v float64) error {
	switch {
	case v > 100:
		return fmt.Errorf("%s must have a max value of 100 (it has %f)", what, v)
	case v < 0:
		return fmt.Errorf("%s must have a min value of 0 (it has %f)", what, v)
	}
	return nil
}

// istioDestination is validateDestination: nothing to check without one; else its host is not `*`
// and is a domain whose first label may be a wildcard, its subset a DNS label, its port 1–65535.
func istioDestination(d *networkingv1alpha3.Destination) error {
	if d == nil {
		return nil
	}
	if d.Host == "*" {
		return fmt.Errorf("invalid destination host %s", d.Host)
	}
	if err := istioWildcardDomain(d.Host); err != nil {
		return err
	}
	if d.Subset != "" && !isIstioLabel(d.Subset) {
		return fmt.Errorf("subset name is invalid: %s", d.Subset)
	}
	if d.Port != nil {
		return istioPort(int64(d.Port.GetNumber()))
	}
	return nil
}
