package plan

import (
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// GatewayState is what the cluster says about an existing Gateway in another namespace that the
// VirtualService binds to (gateway input NAMESPACE/NAME).
type GatewayState int

// The states of such a Gateway. GatewayUnchecked is the zero value: not read (offline, or the
// Gateway is mlcanary's own).
const (
	GatewayUnchecked GatewayState = iota
	GatewayPresent
	GatewayAbsent
	// GatewayUnreadable: the credentials may not read Gateways in that namespace.
	GatewayUnreadable
)

// binding is the VirtualService's role: the live one's, else that of a VirtualService mlcanary
// is about to create.
func (b *builder) binding() routing.Binding {
	if b.live.Binding != nil {
		return *b.live.Binding
	}
	return routing.GatewayBinding(b.cfg)
}

// checkBinding notes how the VirtualService receives traffic when that is not through mlcanary's
// own Gateway, and refuses to bind it to a Gateway in another namespace that does not exist (it
// would receive nothing through it); Rollback, the failure path, only notes that.
func (b *builder) checkBinding() error {
	bd, cfg := b.binding(), b.cfg
	vs := cfg.Namespace + "/" + cfg.VirtualService
	switch {
	case bd.Delegate:
		b.note("VirtualService %s is a delegate (no hosts): mlcanary updates its routes only, adds no hosts or gateways and creates no Gateway", vs)
	case len(bd.Elsewhere) > 0:
		b.note("VirtualService %s is bound to %s, not to %s: that binding and its hosts are kept, and no Gateway is added or created (--gateway NAMESPACE/NAME names an existing Gateway to bind to)",
			vs, strings.Join(bd.Elsewhere, ", "), cfg.Gateway)
	case !bd.OwnGateway:
		switch b.live.BoundGateway {
		case GatewayAbsent:
			if cfg.Stage.Kind == config.KindRollback {
				b.note("Gateway %s does not exist: VirtualService %s receives no traffic through it until it does", cfg.Gateway, vs)
				return nil
			}
			return b.refuse("Gateway %s does not exist, so VirtualService %s bound to it would receive no traffic through it; mlcanary binds to a Gateway given as NAMESPACE/NAME but never creates one: create it, or give a bare name (a Gateway mlcanary creates in namespace %s)", cfg.Gateway, vs, cfg.Namespace)
		case GatewayUnreadable:
			b.note("Gateway %s could not be read with these credentials, so it was not checked that it exists", cfg.Gateway)
		}
	}
	return nil
}

func (b *builder) note(format string, args ...any) {
	b.plan.Notes = append(b.plan.Notes, fmt.Sprintf(format, args...))
}
