package ownership

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/admission"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/lazyregexp"
)

// Before mlcanary sends a VirtualService or Gateway — its own entries merged with everyone
// else's — it checks the whole object as Istio's admission webhook would (admission.VirtualService,
// admission.Gateway: Istio's schema accepts what the webhook denies, so the API server alone would not
// say). The routes mlcanary writes itself must also keep rules that hold on every Istio version:
// their destination weights sum to exactly 100 (Istio before 1.15 requires it) and their header
// match keys are lower case. Other people's routes are held to Istio's rules only: a foreign route
// weighted 2 and 1, or matching header `X-Legacy-Client`, blocks nothing.

var portableHeader = lazyregexp.New(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// CheckVirtualService checks the merged VirtualService vs (as sent) and returns the first rule it
// breaks, naming the route or host and the rule.
func CheckVirtualService(c *config.Config, vs *unstructured.Unstructured) error {
	var spec networkingv1alpha3.VirtualService
	if err := decodeSpec(vs, &spec); err != nil {
		return err
	}
	if err := admission.VirtualService(&spec); err != nil {
		var dup *admission.DuplicateHostsError
		if errors.As(err, &dup) {
			if overlap := ownHostsOverlap(c, spec.Hosts); overlap != nil {
				return overlap
			}
		}
		return err
	}
	return ownRoutes(c, vs)
}

// CheckGateway checks the merged Gateway gw (as sent) against Istio's rules for Gateways.
func CheckGateway(gw *unstructured.Unstructured) error {
	var spec networkingv1alpha3.Gateway
	if err := decodeSpec(gw, &spec); err != nil {
		return err
	}
	return admission.Gateway(gw.GetName(), &spec)
}

// decodeSpec decodes obj's spec into into, one of Istio's API structs.
func decodeSpec(obj *unstructured.Unstructured, into any) error {
	spec, _, _ := unstructured.NestedMap(obj.Object, "spec")
	if err := remarshal(spec, into); err != nil {
		return fmt.Errorf("decoding %s spec: %w", obj.GetKind(), err)
	}
	return nil
}

// remarshal decodes v, a value as the API server returns it (maps, slices, strings, numbers), into
// into through its JSON form, the only decoding Istio's API structs have.
func remarshal(v, into any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

// ownHostsOverlap names the case Istio calls "duplicate hosts" when one side is mlcanary's
// --hosts and the other a host someone else put on the VirtualService (which mlcanary keeps).
func ownHostsOverlap(c *config.Config, hosts []string) error {
	for _, ours := range c.Hosts {
		if !slices.Contains(hosts, ours) {
			continue
		}
		for _, h := range hosts {
			if h != ours && !slices.Contains(c.Hosts, h) && admission.HostsOverlap(ours, h) {
				return fmt.Errorf("host %q (--hosts) and host %q, which someone else set, overlap, and Istio rejects duplicate hosts (one matches the other): set --hosts to %s or remove that host", ours, h, h)
			}
		}
	}
	return nil
}

// ownRoutes holds mlcanary's own routes to the portable rules. (A foreign route without match in
// front of mlcanary's default route, which Istio admits with a warning, is refused by MergeVirtualService.)
func ownRoutes(c *config.Config, vs *unstructured.Unstructured) error {
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for i := range OwnedRoutes(c, vs) {
		m, _ := routes[i].(map[string]any)
		if err := portable(m); err != nil {
			return ownRouteError{fmt.Errorf("%s: %w", DescribeRoute(i, m), err)}
		}
	}
	return nil
}

// ownRouteError is a rule mlcanary keeps on its own routes beyond Istio's.
type ownRouteError struct{ error }

func (e ownRouteError) Unwrap() error { return e.error }

// portable checks the rules of mlcanary's own route m that hold on every Istio version.
func portable(m map[string]any) error {
	dests, _, _ := unstructured.NestedSlice(m, "route")
	total := int64(0)
	for _, d := range dests {
		total += weight(d)
	}
	if len(dests) > 1 && total != 100 {
		return fmt.Errorf("destination weights sum to %d, not 100 (Istio before 1.15 rejects that)", total)
	}
	matches, _, _ := unstructured.NestedSlice(m, "match")
	if len(matches) > 0 { // the first match block is mlcanary's; others may be someone else's
		headers, _, _ := unstructured.NestedMap(matches[0].(map[string]any), "headers")
		for k := range headers {
			if !portableHeader.MatchString(k) {
				return fmt.Errorf("header %q must be lower case letters, digits and '-'", k)
			}
		}
	}
	return nil
}

// MergeCheckedVirtualService merges live into desired (mlcanary's rendered VirtualService; see MergeVirtualService),
// keeps live's binding (see Bind), and checks the result as it will be sent. A result without
// routes is not checked: it is deleted, not sent. The engine and tools/istiovalidate both call it.
func MergeCheckedVirtualService(c *config.Config, desired, live *unstructured.Unstructured) error {
	return MergeCheckedVirtualServiceSince(c, desired, live, nil)
}

// MergeCheckedVirtualServiceSince is MergeCheckedVirtualService for a stage that read start (the
// VirtualService as it decided on it; nil when there was none): a route of mlcanary's that the
// stage removed for a while and now routes again starts from its body in start (see MergeVirtualService).
func MergeCheckedVirtualServiceSince(c *config.Config, desired, live, start *unstructured.Unstructured) error {
	if err := MergeVirtualService(c, desired, live, start); err != nil {
		return err
	}
	Bind(BindingOf(c, live), desired, live) // a delegate stays one; a binding elsewhere is kept
	if routes, _, _ := unstructured.NestedSlice(desired.Object, "spec", "http"); len(routes) == 0 {
		return nil
	}
	if err := CheckVirtualService(c, desired); err != nil {
		var own ownRouteError
		if errors.As(err, &own) {
			return fmt.Errorf("VirtualService %s/%s: %w", desired.GetNamespace(), desired.GetName(), err)
		}
		return fmt.Errorf("VirtualService %s/%s would break Istio's validation rules: %w", desired.GetNamespace(), desired.GetName(), err)
	}
	return nil
}

// MergeCheckedGateway merges live into desired (mlcanary's rendered Gateway; see MergeGateway) and
// checks the result as it will be sent.
func MergeCheckedGateway(desired, live *unstructured.Unstructured) error {
	if err := MergeGateway(desired, live); err != nil {
		return err
	}
	renameOnCollision(desired)
	if err := CheckGateway(desired); err != nil {
		return fmt.Errorf("Gateway %s/%s would break Istio's validation rules: %w", desired.GetNamespace(), desired.GetName(), err)
	}
	LeaveUnchanged(desired, live)
	return nil
}

// weight reads a destination's weight as the API server (int64) or a decoder (float64) gives it.
func weight(d any) int64 {
	m, _ := d.(map[string]any)
	switch w := m["weight"].(type) {
	case int64:
		return w
	case float64:
		return int64(w)
	}
	return 0
}
