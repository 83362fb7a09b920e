package config

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// GatewayRef reads the gateway input. A bare NAME is mlcanary's own Gateway in Namespace, which it
// creates when absent (external false). NAMESPACE/NAME (Istio's own spelling in a VirtualService's
// gateways, e.g. istio-system/public-gateway) is an existing Gateway — a shared platform gateway,
// say — that the VirtualService binds to and mlcanary never creates or changes (external true),
// also when NAMESPACE is the release's namespace.
func (c *Config) GatewayRef() (namespace, name string, external bool) {
	if ns, n, ok := strings.Cut(c.Gateway, "/"); ok {
		return ns, n, true
	}
	return c.Namespace, c.Gateway, false
}

// validateGateway accepts what Istio accepts in a VirtualService's gateways for a Gateway object
// (istio/istio pkg/config/validation validateGatewayNames): a DNS-1123 label, or two separated by
// "/". A bare name with a dot is refused because Istio would read "a.b" as Gateway a in namespace
// b, and "mesh" because it means the sidecars, not a Gateway.
func (c *Config) validateGateway() error {
	bad := &InputError{Input: FlagGateway, Value: c.Gateway,
		Allowed: "a Gateway name (a DNS-1123 label, e.g. mlmodel-gateway) that mlcanary creates in the namespace, or NAMESPACE/NAME of an existing Gateway to bind to, e.g. istio-system/public-gateway"}
	parts := strings.Split(c.Gateway, "/")
	if len(parts) > 2 {
		return bad
	}
	for _, p := range parts {
		if len(validation.IsDNS1123Label(p)) > 0 {
			return bad
		}
	}
	if parts[len(parts)-1] == "mesh" {
		bad.Allowed = `a Gateway name other than "mesh" (Istio's name for the sidecars): a DNS-1123 label, or NAMESPACE/NAME of an existing Gateway`
		return bad
	}
	return nil
}
