package engine

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

// drain waits, before v's pods are replaced or its Deployment or Service deleted, until
// Client.Drain has passed since v lost its last route (unroutedAt): the ingress gateways apply
// route changes a moment later, and requests in flight should finish. It waits at most
// Client.Drain, and not at all when v never lost a route or lost it long enough ago.
func (e *execution) drain(ctx context.Context, v config.Version) error {
	if e.cfg.DryRun {
		return nil
	}
	at, ok := e.unroutedAt(v)
	if !ok {
		return nil
	}
	wait := min(time.Until(at.Add(e.c.Drain)), e.c.Drain)
	if wait <= 0 {
		return nil
	}
	e.log("waiting %s for the gateways to stop sending traffic to %s", wait.Round(time.Second), v)
	e.forgetSeen()
	select {
	case <-ctx.Done():
		return fmt.Errorf("draining %s: %w", v, ctx.Err())
	case <-time.After(wait):
		return nil
	}
}

// unroutedAt is when v lost its last route, as far as this run can know:
//   - when this run removed it (noteUnrouted);
//   - else, when v had no route as the stage decided, the VirtualService's last change: an earlier
//     run removed v's route and was killed or stopped (SIGTERM, Ctrl-C, a lost agent) before it
//     removed or replaced v, and this run continues from there, so it waits what is left of that
//     run's drain. The last change is the latest of the record mlcanary keeps on the
//     VirtualService (ChangedAtAnnotation, the writing run's clock) and the times of its
//     managedFields entries other than status (any manager's change, the API server's clock),
//     each rounded up to the next second, as both are kept in whole seconds. Without a
//     VirtualService nothing says when v lost its route: the whole drain, from now.
//
// ok is false when v has a route as the stage decided and this run did not remove it (the plan
// never replaces or deletes such a version).
func (e *execution) unroutedAt(v config.Version) (time.Time, bool) {
	if at, ok := e.unrouted[v]; ok {
		return at, true
	}
	if e.live.observed().routing.References(v) {
		return time.Time{}, false
	}
	if e.live.vs == nil {
		return time.Now(), true
	}
	return lastChanged(e.live.vs).Add(time.Second), true
}

// lastChanged is when obj last changed as far as its record says: the latest of mlcanary's
// ChangedAtAnnotation and the time of each managedFields entry but the status subresource's.
func lastChanged(obj *unstructured.Unstructured) time.Time {
	last, _ := time.Parse(time.RFC3339, obj.GetAnnotations()[ChangedAtAnnotation])
	for _, m := range obj.GetManagedFields() {
		if m.Subresource == "" && m.Time != nil && m.Time.After(last) {
			last = m.Time.Time
		}
	}
	return last
}
