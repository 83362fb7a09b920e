package routing

import "github.com/mlcanary/mlcanary/internal/config"

// Binding is how mlcanary's VirtualService receives traffic — its role — decided by ownership.BindingOf
// from the gateway input and the live VirtualService, never assumed.
type Binding struct {
	// Delegate is set when the live VirtualService has no hosts: it is a delegate, which a root
	// VirtualService (usually in another namespace) hands requests to through `delegate:`. Istio
	// forbids hosts and gateways on a delegate, so mlcanary writes its routes only.
	Delegate bool
	// Gateway is the gateway mlcanary binds the VirtualService to (the gateway input as given),
	// or "" when it keeps the live binding untouched (Delegate, or Elsewhere).
	Gateway string
	// OwnGateway is set when mlcanary creates (or updates) Gateway Gateway in the namespace: the
	// input is a bare name and the VirtualService is, or will be, bound to it.
	OwnGateway bool
	// Elsewhere lists the gateways a live VirtualService is bound to when none of them is the
	// gateway input nor one mlcanary wrote before (a shared platform gateway, or "mesh" when it
	// names no gateway and so serves the sidecars): that binding and its hosts are kept as they
	// are, and no gateway is added.
	Elsewhere []string
}

// GatewayBinding is the binding to the gateway input: that of a VirtualService mlcanary is about
// to create (a root bound to c.Gateway, which mlcanary owns when it is a bare name).
func GatewayBinding(c *config.Config) Binding {
	_, _, external := c.GatewayRef()
	return Binding{Gateway: c.Gateway, OwnGateway: !external}
}
