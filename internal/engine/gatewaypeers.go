package engine

import (
	"context"
	"fmt"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// gatewayPeers checks, for a plan that changes the routing of a VirtualService bound to
// mlcanary's Gateway, the other VirtualServices Istio merges with it there
// (ownership.GatewayShadows): one of them, older and on an overlapping host, whose route matches
// every request mlcanary's routes would get refuses the stage before any write; a route that
// takes some of them is a note. It costs one paged list of VirtualServices (listWidest) — in every
// namespace, else, when the credentials cannot, the namespace's — and none when the stage read
// them already to find routes to a version it displaces (readOthers). A stage that leaves the
// routing as it is (a re-run), or whose VirtualService is a delegate or bound elsewhere, sends
// nothing for it.
func (c *Client) gatewayPeers(ctx context.Context, l *liveState, p *plan.Plan) ([]string, error) {
	writes := false
	for _, s := range p.Steps {
		writes = writes || s.Action == plan.ApplyRoutes
	}
	read := l.observed()
	if b := read.binding; !writes || b.Delegate || len(b.Elsewhere) > 0 || l.vs != nil && p.Final.Equal(read.routing) {
		return nil, nil
	}
	all := l.others
	if !l.othersRead {
		var err error
		all, _, err = c.listWidest(ctx, kube.VirtualServices, l.cfg.Namespace)
		switch {
		case refused(err):
			return []string{fmt.Sprintf("the other VirtualServices on Gateway %s were not checked for routes Istio would try before mlcanary's: the credentials cannot list VirtualServices", l.cfg.Gateway)}, nil
		case err != nil:
			return nil, fmt.Errorf("checking the other VirtualServices bound to Gateway %s: %w", l.cfg.Gateway, err)
		}
	}
	return ownership.GatewayShadows(l.cfg, l.vs, all)
}
