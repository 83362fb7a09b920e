package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// PeersCheckedAnnotation records, on mlcanary's VirtualService, what the last check of the other
// VirtualServices on its Gateway looked at and found (peersCheck): peersKey, the Gateway, --hosts
// and --uri-prefix, mlcanary's inputs of the check (ownership.GatewayShadows; the hosts of the
// Gateway's server are not in it: an edit of them, like another team's edit of its
// VirtualService, is seen by the next stage that checks), the namespaces it could list (all, the
// release's only under a namespace-scoped Role, or none) and its notes (a route taking some
// requests, a VirtualService taking a narrower host). It is written with the routes, by the stage
// that checked or by one that kept it; a check that refused the stage, failed, or on Rollback
// found one that would refuse another stage leaves it out. plan --offline records it too, as a
// stage does from the state it assumes, where no other VirtualService exists.
const PeersCheckedAnnotation = "mlcanary.io/gateway-peers-checked"

// peersKey is what PeersCheckedAnnotation records: "NAMESPACE/GATEWAY HOSTS URI-PREFIX", the
// hosts joined by commas.
func peersKey(cfg *config.Config) string {
	return ownership.ResolveGateway(cfg.Gateway, cfg.Namespace) + " " + strings.Join(cfg.Hosts, ",") + " " + cfg.URIPrefix
}

// gatewayPeers checks, for a plan that changes the routing of a VirtualService bound to
// mlcanary's Gateway, the other VirtualServices bound there, as Istio builds the Gateway's
// virtual hosts from them and the server's hosts (ownership.GatewayShadows,
// ownership.GatewayServerHosts): one that shares a virtual host with mlcanary's and has a route
// Istio tries before mlcanary's default route matching every request it would get there, on
// every host of mlcanary's, refuses the stage before any write; a route that takes some of them,
// or a VirtualService for a narrower host (its own audit.example.com under mlcanary's "*"), which
// takes that host's requests, is a note. Rollback is never refused by this check: it is the stage
// that moves traffic back to green, so what would refuse another stage — and a failed list — is a
// note on it, and a Rollback that noted one records no check. It costs one paged list of
// VirtualServices (listWidest) — in every namespace, else, when the credentials cannot, the
// namespace's — and none when the stage read them already to find routes to a version it
// displaces (readOthers).
//
// It sends nothing for a stage that leaves the routing as it is (a re-run), whose VirtualService
// is a delegate or bound elsewhere, or that only moves the default route's weights on a
// VirtualService whose PeersCheckedAnnotation records a check for the same Gateway, hosts and
// --uri-prefix — whatever namespaces it looked at and whatever it noted, which such a stage says
// again (peersCheck.restate): whether an older VirtualService shadows mlcanary's depends on those
// and on the routes' matches, never on the weights, so such a stage cannot change the answer. A
// shift does not ask what its own credentials may list (one more request): a record of the
// release's namespace only stands for it too, and the next stage that checks uses its own. The list —
// one consistent read of every VirtualService in the cluster, paged, which waits for the API
// server's watch cache after any write and grows with the cluster (about 150 ms for 2,000 on a
// test API server) — stays off the path of a traffic shift. Every stage that adds or removes a
// header route (each release's Blue_0, Blue_Green, Green_100) or creates the VirtualService checks
// again, so the record is at most one release old; another team's later edit of an older
// VirtualService is then seen by the next such stage. (Not served from the watch cache instead,
// with resourceVersion=0: the API server answers that at any resource version and may ignore
// limit, so the list would no longer be paged — kube-apiserver v1.37 answered one page of 2,000
// for limit=500; https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions,
// "Semantics for get and list".)
func (c *Client) gatewayPeers(ctx context.Context, l *liveState, p *plan.Plan) ([]string, error) {
	writes := false
	for _, s := range p.Steps {
		writes = writes || s.Action == plan.ApplyRoutes
	}
	read := l.observed()
	if b := read.binding; !writes || b.Delegate || len(b.Elsewhere) > 0 || l.vs != nil && p.Final.Equal(read.routing) {
		return nil, nil
	}
	key := peersKey(l.cfg)
	if l.vs != nil && sameHeaders(p, read) {
		if rec, ok := parsePeers(l.vs.GetAnnotations()[PeersCheckedAnnotation]); ok && rec.Key == key {
			return rec.restate(l.cfg.Gateway), nil
		}
	}
	rollback := l.cfg.Stage.Kind == config.KindRollback
	all, narrowed := l.others, l.othersNote != ""
	if !l.othersRead {
		var err error
		all, narrowed, err = c.listWidest(ctx, kube.VirtualServices, l.cfg.Namespace)
		switch {
		case refused(err):
			notes := []string{fmt.Sprintf("the other VirtualServices on Gateway %s were not checked for routes Istio would try before mlcanary's: the credentials cannot list VirtualServices", l.cfg.Gateway)}
			l.peersChecked, l.peersRecorded = true, recordPeers(key, peersNone, notes).value()
			return notes, nil
		case err != nil && rollback:
			l.peersChecked = true
			return []string{fmt.Sprintf("the other VirtualServices on Gateway %s were not checked for routes Istio would try before mlcanary's (Rollback goes ahead without): %v", l.cfg.Gateway, err)}, nil
		case err != nil:
			return nil, fmt.Errorf("checking the other VirtualServices bound to Gateway %s: %w", l.cfg.Gateway, err)
		}
	}
	notes, err := ownership.GatewayShadows(l.cfg, l.vs, ownership.GatewayServerHosts(l.cfg, l.gateway), all)
	l.peersChecked, l.peersRecorded = true, ""
	if err == nil {
		scope := peersAll
		if narrowed {
			scope = peersNamespace
		}
		l.peersRecorded = recordPeers(key, scope, notes).value()
	}
	if err != nil && rollback {
		return []string{fmt.Sprintf("Rollback goes ahead (it moves mlcanary's routes back to green; refusing it would leave blue live) although %v", err)}, nil
	}
	return notes, err
}

// sameHeaders reports whether plan p keeps the header routes the live routing has.
func sameHeaders(p *plan.Plan, read *observed) bool {
	for _, v := range config.Versions {
		if p.Final.Headers[v] != read.routing.Headers[v] {
			return false
		}
	}
	return true
}

// peersRecord is the PeersCheckedAnnotation a route write sends: this stage's check
// (peersCheck.value; "" when it cannot be recorded), or, when it did not check, live's (the
// VirtualService as read before the write) as it is when it records the same key; "" (left out)
// otherwise.
func (l *liveState) peersRecord(live map[string]string) string {
	if l.peersChecked {
		return l.peersRecorded
	}
	if rec, ok := parsePeers(live[PeersCheckedAnnotation]); ok && rec.Key == peersKey(l.cfg) {
		return live[PeersCheckedAnnotation]
	}
	return ""
}
