package engine

import (
	"context"
	"fmt"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// execution carries one stage's steps out and records what changed.
type execution struct {
	c    *Client
	cfg  *config.Config
	live *liveState
	log  Logger
	res  *summary.Result
	// images are the images each version runs as the steps proceed, for the change record.
	images map[config.Version]string
	plan   *plan.Plan
	// unrouted records when a version lost its last route in this run, so its pods are replaced
	// or deleted only after the gateways had time to get the new routes (Client.Drain).
	unrouted map[config.Version]time.Time
	// vs is the VirtualService's spec and generation as this run last saw or wrote them: the plan
	// was made from them, so a spec change by anyone else since refuses the write.
	vs decidedVS
	// routedAt is the change time recorded by this run's last VirtualService write.
	routedAt time.Time
	// seen holds the objects as this run last read or wrote them (nil: known not to exist), from
	// the reads it decided on until it waits or drains (seen.go).
	seen map[seenKey]*unstructured.Unstructured
}

// newExecution prepares plan p's steps against the live state it was made from.
func newExecution(c *Client, cfg *config.Config, live *liveState, p *plan.Plan, log Logger) *execution {
	e := &execution{c: c, cfg: cfg, live: live, log: log, res: newResult("stage", cfg), plan: p,
		images: map[config.Version]string{}, unrouted: map[config.Version]time.Time{}}
	for _, v := range config.Versions {
		_, e.images[v] = scoringContainer(live.observed().typed[v], cfg.Container)
	}
	e.vs = decidedFrom(live.vs)
	e.seeDecided()
	return e
}

// check renders and validates every VirtualService and Gateway the plan will write, merged with
// the live one, so an object Istio would reject (a foreign catch-all before mlcanary's default
// route, a second server named http) or a Gateway server mlcanary may not change refuses the stage
// before its first write rather than after minutes of rollout. (Deployments and Services are
// checked by package plan.)
func (e *execution) check(ctx context.Context) error {
	if err := e.exposed(ctx); err != nil {
		return err
	}
	for _, s := range e.plan.Steps {
		switch s.Action {
		case plan.ApplyRoutes:
			if _, err := e.desiredRoutes(s.Routing, e.live.vs); err != nil {
				return err
			}
		case plan.ApplyGateway:
			live, err := e.get(ctx, kube.Gateways, e.cfg.Gateway)
			if err != nil {
				return err
			}
			if _, err := desiredObject(render.Gateway(e.cfg), live, ownership.MergeCheckedGateway); err != nil {
				return err
			}
		}
	}
	return nil
}

// steps carries the plan's steps out in order, stopping at the first error. After a rollout wait,
// what the next steps read is read at once, at the same time (readsOf), so the stage is done a
// moment after the Deployment is ready.
func (e *execution) steps(ctx context.Context) error {
	for i, s := range e.plan.Steps {
		if err := e.step(ctx, s); err != nil {
			return err
		}
		if s.Action == plan.WaitReady {
			if err := e.readUnseen(ctx, e.readsOf(e.plan.Steps[i+1:])...); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *execution) step(ctx context.Context, s plan.Step) error {
	cfg := e.cfg
	switch s.Action {
	case plan.ApplyGateway:
		return e.apply(ctx, kube.Gateways, render.Gateway(cfg), "", ownership.MergeCheckedGateway)
	case plan.ApplyService:
		return e.apply(ctx, kube.Services, render.Service(cfg, s.Version), "", nil)
	case plan.ApplyDeployment:
		e.images[s.Version] = s.Image
		d, merge := e.live.deployment(s.Version, s.Image, s.Container)
		live := e.live.deployments[s.Version]
		desired, err := desiredObject(d, live, merge)
		if err != nil || desired == nil {
			return err
		}
		if live != nil && !upToDate(desired, live) { // its pods are about to be replaced
			if err := e.drain(ctx, s.Version); err != nil {
				return err
			}
			if err := e.handOver(ctx, s.Version); err != nil {
				return err
			}
		}
		return e.apply(ctx, kube.Deployments, d, e.deploymentDetail(s, d), merge)
	case plan.WaitReady:
		return e.wait(ctx, s.Version)
	case plan.ApplyRoutes:
		return e.routes(ctx, s.Routing)
	case plan.DeleteDeployment:
		e.images[s.Version] = ""
		if e.live.deployments[s.Version] != nil {
			if err := e.drain(ctx, s.Version); err != nil {
				return err
			}
		}
		return e.remove(ctx, kube.Deployments, cfg.Objects[s.Version].Deployment)
	case plan.DeleteService:
		if e.live.services[s.Version] != nil { // also when its Deployment is another manager's and stays
			if err := e.drain(ctx, s.Version); err != nil {
				return err
			}
		}
		return e.remove(ctx, kube.Services, cfg.Objects[s.Version].Service)
	case plan.ApplyAutoscaler:
		return e.applyAutoscaler(ctx, s.Version)
	case plan.DeleteAutoscaler:
		return e.deleteAutoscaler(ctx, s.Version)
	}
	return fmt.Errorf("unknown step %q", s.Action)
}

// deploymentDetail is the change line's detail for step s's Deployment d: its image, its pod
// template's hash, and what the readiness rule did to the template's scoring container
// (render.ReadinessNote: "readiness probe GET / on port 5001 added to container model", "readiness
// probe of deploy/model.yaml kept on container model", or none with --readiness-path none). An
// adopted Deployment gets only its image (ownership.Adopt), so its line names only that.
func (e *execution) deploymentDetail(s plan.Step, d *appsv1.Deployment) string {
	detail := "image " + s.Image
	if ownership.Adopted(e.live.deployments[s.Version]) {
		return detail
	}
	if h := d.Annotations[config.TemplateHashAnnotation]; h != "" {
		detail += ", pod template " + h
	}
	t := e.live.template(s.Version, s.Container)
	if note := render.ReadinessNote(t.Spec.Spec, t.Source, t.Container, e.cfg.ReadinessPath, e.cfg.Port); note != "" {
		detail += ", " + note
	}
	return detail
}

// apply writes obj unless the cluster already holds it, recording the change (or, in a dry run,
// the server's answer as a diff). Only the fields mlcanary owns are sent (desiredObject); merge,
// when set, keeps what someone else owns in lists the API replaces whole.
func (e *execution) apply(ctx context.Context, gvr schema.GroupVersionResource, obj any, detail string, merge func(desired, live *unstructured.Unstructured) error) error {
	name, err := render.Unstructured(obj)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := e.applyOnce(ctx, gvr, obj, name.GetName(), detail, merge)
		if merge == nil || !isConflict(err) || attempt == maxWriteAttempts {
			return err
		}
		e.unsee(gvr, name.GetName()) // read it again and merge with what is there now
		e.log("%s %s/%s was written by someone else just now; reading it again", kube.Kind(gvr), e.cfg.Namespace, name.GetName())
	}
}

// applyOnce is one attempt of apply. A body merged with the live object (merge: the Gateway's
// servers, an adopted or autoscaled Deployment's live replicas) sends values mlcanary read, not
// values it owns, so it carries the resourceVersion it read as a precondition: if anyone wrote the
// object in between (an autoscaler scaling it, a person adding a server), the API server answers
// 409 Conflict instead of letting the forced apply set their change back, and apply reads again.
func (e *execution) applyOnce(ctx context.Context, gvr schema.GroupVersionResource, obj any, name, detail string, merge func(desired, live *unstructured.Unstructured) error) error {
	live, err := e.get(ctx, gvr, name)
	if err != nil {
		return err
	}
	if live != nil && live.GetDeletionTimestamp() != nil {
		// The write would be accepted, but the object goes away once its finalizers finish.
		return kube.BeingDeleted("applying "+kube.Kind(gvr)+" "+e.cfg.Namespace+"/"+name, live)
	}
	desired, err := desiredObject(obj, live, merge)
	if err != nil || desired == nil {
		return err
	}
	if merge != nil && live != nil {
		desired.SetResourceVersion(live.GetResourceVersion())
	}
	return e.write(ctx, gvr, desired, live, detail)
}

// desiredObject is what mlcanary sends for the rendered obj given the live object: stamped with
// the hash of what mlcanary renders, narrowed to what it owns on an object someone else created
// (ownership.Adopt), and merged with live by merge when set. It is nil when nothing of the object is
// mlcanary's to write (an adopted Service).
func desiredObject(obj any, live *unstructured.Unstructured, merge func(desired, live *unstructured.Unstructured) error) (*unstructured.Unstructured, error) {
	desired, err := render.Unstructured(obj)
	if err != nil {
		return nil, err
	}
	stamp(desired)
	if ownership.Adopt(desired, live) {
		return nil, nil
	}
	if merge != nil {
		if err := merge(desired, live); err != nil {
			return nil, err
		}
	}
	return desired, nil
}

func (e *execution) write(ctx context.Context, gvr schema.GroupVersionResource, desired, live *unstructured.Unstructured, detail string) error {
	_, err := e.writeObject(ctx, gvr, desired, live, detail)
	return err
}

// writeObject is write that also returns what the server stored (live when nothing was written).
func (e *execution) writeObject(ctx context.Context, gvr schema.GroupVersionResource, desired, live *unstructured.Unstructured, detail string) (*unstructured.Unstructured, error) {
	if upToDate(desired, live) {
		return live, nil
	}
	verb := "updated"
	if live == nil {
		verb = "created"
	}
	out, err := e.c.cluster.Apply(ctx, gvr, desired, e.cfg.DryRun)
	if err != nil {
		return nil, err
	}
	e.change(verb, gvr, desired.GetName(), detail)
	if e.cfg.DryRun {
		e.res.Diff += diff(kube.Kind(gvr)+" "+e.cfg.Namespace+"/"+desired.GetName(), live, out)
		return live, nil
	}
	e.see(gvr, desired.GetName(), out)
	return out, nil
}

func (e *execution) remove(ctx context.Context, gvr schema.GroupVersionResource, name string) error {
	live, err := e.get(ctx, gvr, name)
	if err != nil || live == nil || live.GetDeletionTimestamp() != nil { // already going: nothing to do
		return err
	}
	if ownership.ManagerOf(live) != "" { // another manager's (the plan left it in place): never deleted
		return nil
	}
	if err := e.c.cluster.Delete(ctx, gvr, e.cfg.Namespace, name, e.cfg.DryRun); err != nil {
		return err
	}
	if !e.cfg.DryRun {
		e.see(gvr, name, nil)
	}
	e.change("deleted", gvr, name, "")
	if e.cfg.DryRun { // the whole object is not shown: it may hold values nobody should print
		e.res.Diff += fmt.Sprintf("--- live %s %s/%s\n+++ (deleted)\n", kube.Kind(gvr), e.cfg.Namespace, name)
	}
	return nil
}

func (e *execution) wait(ctx context.Context, v config.Version) error {
	name := e.cfg.Objects[v].Deployment
	if e.cfg.DryRun || e.c.offline {
		e.res.Changes = append(e.res.Changes, fmt.Sprintf("would wait up to %s for Deployment %s/%s to be ready", e.cfg.Timeout, e.cfg.Namespace, name))
	}
	if e.cfg.DryRun {
		return nil
	}
	// Make-before-break: after this run changed v's pod template (or created v), every replica of the
	// new template must be available (Done). Otherwise the pods run the template they ran, and a
	// routable version (a scale-up in progress: kube.Rollout.Routable) needs no wait.
	d, ok := e.seen[seenKey{kube.Deployments, name}]
	routable := ok && !templateChanged(e.live.deployments[v], d)
	if r := kube.RolloutOf(d); ok && (r.Done || routable && r.Routable) {
		return nil // rolled out as this run last saw it, and not written since (a re-run)
	}
	e.log("waiting up to %s for Deployment %s/%s to be ready", e.cfg.Timeout, e.cfg.Namespace, name)
	e.forgetSeen()
	return e.c.cluster.WaitRollout(ctx, e.cfg.Namespace, name, kube.WaitOptions{Timeout: e.cfg.Timeout, Interval: e.c.PollInterval, Log: e.log, Routable: routable})
}

// templateChanged reports whether Deployment after (as this run last wrote or read it) runs another
// pod template than before (as the stage found it), or did not exist before.
func templateChanged(before, after *unstructured.Unstructured) bool {
	if before == nil || after == nil {
		return true
	}
	b, _, _ := unstructured.NestedMap(before.Object, "spec", "template")
	a, _, _ := unstructured.NestedMap(after.Object, "spec", "template")
	return !reflect.DeepEqual(b, a)
}

func (e *execution) change(verb string, gvr schema.GroupVersionResource, name, detail string) {
	if e.cfg.DryRun || e.c.offline {
		verb = "would be " + verb
	}
	line := fmt.Sprintf("%s %s/%s %s", kube.Kind(gvr), e.cfg.Namespace, name, verb)
	if detail != "" {
		line += " (" + detail + ")"
	}
	e.res.Changes = append(e.res.Changes, line)
	e.res.Changed = true
	e.log("%s", line)
}

func (e *execution) now() time.Time { return e.c.Now().UTC().Truncate(time.Second) }
