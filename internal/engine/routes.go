package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// routes makes the VirtualService send r, keeping routes and fields that belong to others, and
// records the stage, weights and images on it. A write that conflicts with a write by someone else
// (istiod's status, another tool's label) is retried from a fresh read, as long as the spec the
// stage decided on is unchanged.
func (e *execution) routes(ctx context.Context, r routing.Routing) error {
	var conflict error
	for attempt := 1; ; attempt++ {
		err := e.routeOnce(ctx, r)
		if isConflict(err) && attempt < maxWriteAttempts {
			conflict = err
			e.unsee(kube.VirtualServices, e.cfg.VirtualService) // read it again
			e.log("VirtualService %s/%s was written by someone else just now; reading it again", e.cfg.Namespace, e.cfg.VirtualService)
			continue
		}
		var ce *changedError
		if conflict != nil && errors.As(err, &ce) {
			ce.conflict = conflict
		}
		return err
	}
}

func (e *execution) routeOnce(ctx context.Context, r routing.Routing) error {
	cfg := e.cfg
	live, err := e.get(ctx, kube.VirtualServices, cfg.VirtualService)
	if err != nil {
		return err
	}
	if err := e.unchangedSinceDecided(live); err != nil {
		return err
	}
	desired, err := e.desiredRoutes(r, live)
	if err != nil {
		return err
	}
	before := ownership.RoutingOf(cfg, live)
	if routes, _, _ := unstructured.NestedSlice(desired.Object, "spec", "http"); len(routes) == 0 {
		// Istio rejects a VirtualService without routes; no routes at all means no VirtualService.
		if err = e.remove(ctx, kube.VirtualServices, cfg.VirtualService); err == nil && !cfg.DryRun {
			e.vs = decidedVS{}
		}
	} else {
		if !upToDate(desired, live) { // only a write can send traffic somewhere new
			if err := e.routable(ctx, r); err != nil {
				return err
			}
		}
		var out *unstructured.Unstructured
		if out, err = e.writeObject(ctx, kube.VirtualServices, desired, live, describeRouting(before, r)); err == nil && out != nil {
			e.vs = decidedFrom(out)
			if out != live {
				e.routedAt, _ = time.Parse(time.RFC3339, out.GetAnnotations()[ChangedAtAnnotation])
			}
		}
	}
	if err == nil {
		e.noteUnrouted(before, r)
	}
	return err
}

// routable re-checks, just before routing, every version r sends traffic to: its Deployment must
// still be rolled out with the image the stage decided on, and its Service present, whatever
// happened since the stage decided. What it checks is what the run knows of them now (seen.go):
// read again, at the same time, after the run waited or drained; the very reads it decided on when
// it routes straight after them (a Blue_N), so the check costs no request then. A status or
// metadata change of the Deployment does not matter: one the controller has not observed yet (an
// annotation raises a Deployment's generation) is waited for, as `kubectl rollout status` waits,
// within the stage's timeout, and then judged.
func (e *execution) routable(ctx context.Context, r routing.Routing) error {
	if e.cfg.DryRun {
		return nil
	}
	var routed []seenKey
	for _, v := range config.Versions {
		if r.References(v) {
			routed = append(routed, seenKey{kube.Deployments, e.cfg.Objects[v].Deployment}, seenKey{kube.Services, e.cfg.Objects[v].Service})
		}
	}
	if err := e.readUnseen(ctx, routed...); err != nil {
		return err
	}
	for _, v := range config.Versions {
		if !r.References(v) {
			continue
		}
		d, err := e.get(ctx, kube.Deployments, e.cfg.Objects[v].Deployment)
		if err != nil {
			return err
		}
		typed := typedDeployment(d)
		if kube.DeploymentRollout(typed).Unobserved {
			if err := e.wait(ctx, v); err != nil {
				return fmt.Errorf("%s is not ready any more, so no route goes to it: %w", v, err)
			}
			if d, err = e.get(ctx, kube.Deployments, e.cfg.Objects[v].Deployment); err != nil {
				return err
			}
			typed = typedDeployment(d)
		}
		if ro := kube.DeploymentRollout(typed); !ro.Routable { // a scale-up in progress still routes
			return fmt.Errorf("%s is not ready any more (%s), so no route goes to it; run the stage again", v, ro.Reason)
		}
		if _, img := scoringContainer(typed, e.cfg.Container); img != e.images[v] {
			return changed("%s runs %s now, not %s as when this stage decided: someone changed Deployment %s/%s while this stage ran; run the stage again to decide from the new state",
				v, img, e.images[v], e.cfg.Namespace, e.cfg.Objects[v].Deployment)
		}
		svc, err := e.get(ctx, kube.Services, e.cfg.Objects[v].Service)
		if err != nil {
			return err
		}
		if svc == nil {
			return fmt.Errorf("Service %s/%s of %s is gone, so no route goes to it; run the stage again", e.cfg.Namespace, e.cfg.Objects[v].Service, v)
		}
	}
	return nil
}

// desiredRoutes renders the VirtualService for r merged into live, validated against Istio's
// rules. It is pure, so a stage checks every routing it will write before its first write.
func (e *execution) desiredRoutes(r routing.Routing, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	cfg := e.cfg
	desired, err := render.Unstructured(render.VirtualService(cfg, r))
	if err != nil {
		return nil, err
	}
	ann := desired.GetAnnotations()
	maps.Copy(ann, map[string]string{
		WeightsAnnotation:   fmt.Sprintf("green=%d,blue=%d", r.Weights[config.Green], r.Weights[config.Blue]),
		ImagesAnnotation:    fmt.Sprintf("green=%s,blue=%s", e.images[config.Green], e.images[config.Blue]),
		ChangedAtAnnotation: e.now().Format("2006-01-02T15:04:05Z"),
		ChangedByAnnotation: cfg.ChangedBy,
	})
	// The record names a stage only once it holds. The stage's final routing records it (with the
	// images the stage ends with); an intermediate one — a version unrouted before its pods are
	// replaced — keeps the stage recorded before and names this one as in progress, so a stage
	// that fails half-way leaves the last stage that held, not its own name.
	if r.Equal(e.plan.Final) {
		ann[StageAnnotation] = cfg.Stage.String()
		ann[ImagesAnnotation] = fmt.Sprintf("green=%s,blue=%s", e.plan.Images[config.Green], e.plan.Images[config.Blue])
	} else {
		if live != nil && live.GetAnnotations()[StageAnnotation] != "" {
			ann[StageAnnotation] = live.GetAnnotations()[StageAnnotation]
		}
		ann[InProgressAnnotation] = cfg.Stage.String()
	}
	var liveAnn map[string]string
	if live != nil {
		liveAnn = live.GetAnnotations()
	}
	if key := e.live.peersRecord(liveAnn); key != "" {
		ann[PeersCheckedAnnotation] = key
	}
	desired.SetAnnotations(ann)
	binding := ownership.BindingOf(cfg, live) // a delegate stays one; a binding elsewhere is kept
	ownership.Bind(binding, desired, live)
	stamp(desired) // over mlcanary's own routes only: a route someone adds is not a reason to write
	// A VirtualService someone else created keeps its labels.
	ownership.Adopt(desired, live)
	// Merge, bind as above again, and check against Istio's rules.
	if err := ownership.MergeCheckedVirtualServiceSince(cfg, desired, live, e.live.vs); err != nil {
		return nil, err
	}
	ownership.LeaveUnchanged(desired, live) // checked whole; sent without what it does not change
	if live != nil {
		// Optimistic lock: if someone changes the VirtualService between our read and our write,
		// the write fails instead of silently overwriting their change.
		desired.SetResourceVersion(live.GetResourceVersion())
	}
	return desired, nil
}

// noteUnrouted records the versions this routing change took the last route from.
func (e *execution) noteUnrouted(before, after routing.Routing) {
	for _, v := range config.Versions {
		if before.References(v) && !after.References(v) && !e.cfg.DryRun {
			e.unrouted[v] = time.Now()
		}
	}
}

// describeRouting says how the traffic changes, e.g.
// "green 100% → 50%, blue 0% → 50%; header routes: blue, green (added blue)".
func describeRouting(from, to routing.Routing) string {
	var parts []string
	for _, v := range config.Versions {
		a, b := from.Weights[v], to.Weights[v]
		if a != b {
			parts = append(parts, fmt.Sprintf("%s %d%% → %d%%", v, a, b))
		} else {
			parts = append(parts, fmt.Sprintf("%s %d%%", v, b))
		}
	}
	var headers, changed []string
	for _, v := range []config.Version{config.Blue, config.Green} {
		if to.Headers[v] {
			headers = append(headers, string(v))
		}
		switch {
		case to.Headers[v] && !from.Headers[v]:
			changed = append(changed, "added "+string(v))
		case !to.Headers[v] && from.Headers[v]:
			changed = append(changed, "removed "+string(v))
		}
	}
	h := "none"
	if len(headers) > 0 {
		h = strings.Join(headers, ", ")
	}
	if len(changed) > 0 {
		h += " (" + strings.Join(changed, ", ") + ")"
	}
	out := strings.Join(parts, ", ") + "; header routes: " + h
	if from.Mirror != to.Mirror {
		out += fmt.Sprintf("; mirror to blue %d%% → %d%%", from.Mirror, to.Mirror)
	} else if to.Mirrored() {
		out += fmt.Sprintf("; mirror to blue %d%%", to.Mirror)
	}
	return out
}
