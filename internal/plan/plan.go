// Package plan decides, as a pure function of the inputs and the observed cluster, what a stage
// must do and in which order: create and wait first, route second; unroute first, delete second.
// A stage whose precondition does not hold is refused here, before anything is written.
package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// VersionState is what the cluster says about one version.
type VersionState struct {
	// Deployed is true when the version's Deployment exists.
	Deployed bool
	// Ready is true when the version may be routed to (kube.Rollout.Routable): its rollout is
	// complete and every replica available, or the rollout of its current pod template completed
	// and only a scale-up is in progress (no old-template replica, at least one available);
	// whether the replicas suffice for a share is the capacity check's (Capacity).
	Ready bool
	// Image is the scoring container's image.
	Image string
	// Container is the scoring container's name (kept for a Deployment mlcanary adopted).
	Container string
	// TemplateHash is the pod template hash the Deployment records (config.TemplateHashAnnotation;
	// "" when it was not deployed from a pod template).
	TemplateHash string `json:",omitempty"`
	// Current is true when applying the Deployment with its live image would change nothing.
	Current bool
	// Available and Wanted are replica counts, and Reason explains an unfinished rollout, for messages.
	Available, Wanted int64
	Reason            string
	// Shape is the Deployment's selector, pod labels and containers, and Service the version's
	// Service: checked before the first write when the stage touches the version.
	Shape   Shape
	Service ServiceState
	// Deleting is set when the version's Deployment or Service is being deleted (it has a
	// deletionTimestamp and waits for its finalizers): one clause naming the object, since when and
	// the finalizers, e.g. "Deployment ns/model-green is being deleted (since …, waiting for
	// finalizers f)". Such a version counts as absent: Deployed and Ready are false, and no step
	// routes to it, applies it or waits for it (see dying.go).
	Deleting string `json:",omitempty"`
	// Paused is spec.paused (`kubectl rollout pause`): the Deployment controller rolls out no
	// change of the pod template until it is resumed (see paused.go).
	Paused bool `json:",omitempty"`
	// DeploymentManager and ServiceManager say who else manages the version's Deployment and
	// Service (ownership.ManagerOf: "Helm release scoring", "not created by mlcanary"); "" when
	// mlcanary created it. Only an object mlcanary created is deleted (see remove).
	DeploymentManager, ServiceManager string `json:",omitempty"`
}

// Live is the observed state a plan starts from.
type Live struct {
	Versions map[config.Version]VersionState
	// Routing is what the VirtualService sends where now (empty when it does not exist).
	Routing routing.Routing
	// Foreign names, per version, the routes mlcanary does not manage that send traffic to it: in
	// its own VirtualService, and in every other VirtualService that was read (see Plan.Displaces).
	Foreign map[config.Version][]routing.Reference
	// Binding is the VirtualService's role (ownership.BindingOf); nil means that of a new one.
	Binding *routing.Binding
	// BoundGateway is, when the VirtualService binds to an existing Gateway in another namespace,
	// what is known of that Gateway.
	BoundGateway GatewayState
	// Deleting names the VirtualService or Gateway the routes live on when it is being deleted
	// (same clause as VersionState.Deleting): no stage writes routes onto it.
	Deleting []string `json:",omitempty"`
	// Autoscaled says which versions an autoscaler (HorizontalPodAutoscaler or KEDA ScaledObject)
	// scales, known when AutoscalersRead (they are read only when a stage needs them).
	Autoscaled      map[config.Version]bool
	AutoscalersRead bool
	// OwnAutoscaler says which versions' autoscaler is mlcanary's (the copy Blue_0 gave blue),
	// removed with the version.
	OwnAutoscaler map[config.Version]bool
	// CopyRefused, when set, says why blue cannot get the copy of green's autoscaler Blue_0 would
	// give it (the engine's rule: its name is another manager's object's, or it would still
	// measure green): Blue_0 then refuses before any write.
	CopyRefused string `json:",omitempty"`
}

// Action is one kind of step.
type Action string

// The steps a plan is made of. Apply steps write only when the object differs from what is live.
const (
	ApplyGateway     Action = "apply-gateway"
	ApplyService     Action = "apply-service"
	ApplyDeployment  Action = "apply-deployment"
	WaitReady        Action = "wait-ready"
	ApplyRoutes      Action = "apply-routes"
	DeleteDeployment Action = "delete-deployment"
	DeleteService    Action = "delete-service"
	// ApplyAutoscaler gives Version an autoscaler from the other version's: blue a copy of
	// green's (Blue_0), green blue's settings (Blue_Green). DeleteAutoscaler removes mlcanary's.
	ApplyAutoscaler  Action = "apply-autoscaler"
	DeleteAutoscaler Action = "delete-autoscaler"
)

// Step is one ordered action.
type Step struct {
	Action  Action
	Version config.Version `json:",omitempty"`
	// Image and Container are set for ApplyDeployment.
	Image     string `json:",omitempty"`
	Container string `json:",omitempty"`
	// Routing is set for ApplyRoutes.
	Routing routing.Routing `json:",omitzero"`
}

// Plan is the ordered steps of a stage and what holds when they are done.
type Plan struct {
	Steps []Step
	// Final is the routing after the stage.
	Final routing.Routing
	// Images are the images each version runs after the stage ("" when removed or absent).
	Images map[config.Version]string
	// Notes explain a choice a reader might not expect (e.g. a first release).
	Notes []string
	// Warnings are what the stage does not refuse but a reader must know, one sentence each (a
	// mirror's copies reach blue as real requests: MirrorWarning).
	Warnings []string `json:",omitempty"`
	// Displaces lists the existing versions whose pods the stage deletes or replaces: before it
	// may, every route to them must be mlcanary's, so the caller checks that Live.Foreign covers
	// every VirtualService it can read and plans again (reading them all only for such stages).
	Displaces []config.Version `json:",omitempty"`
}

// PreconditionError is a stage refused before any write, naming what does not hold and which
// stage establishes it.
type PreconditionError struct {
	Stage string
	Msg   string
	// Unready is set when the only problem is that this version's rollout has not finished: the
	// caller may wait for it and plan again.
	Unready config.Version
	// NeedsAutoscalers is set when the refusal is a capacity shortfall that --capacity-check auto
	// only enforces when no autoscaler scales the version: the caller reads the autoscalers
	// (Live.AutoscalersRead) and plans again.
	NeedsAutoscalers bool
}

// Error reads "Stage: what does not hold; which stage establishes it".
func (e *PreconditionError) Error() string { return e.Stage + ": " + e.Msg }

// Make plans cfg.Stage from live.
func Make(cfg *config.Config, live Live) (*Plan, error) {
	b := &builder{cfg: cfg, live: live, plan: &Plan{Images: map[config.Version]string{}}, services: map[config.Version]bool{}}
	for _, v := range config.Versions {
		b.plan.Images[v] = live.Versions[v].Image
	}
	if err := b.checkBinding(); err != nil {
		return nil, err
	}
	var err error
	switch cfg.Stage.Kind {
	case config.KindBlue0:
		err = b.blue0()
	case config.KindBlueN, config.KindBlue100:
		err = b.shift()
	case config.KindShadow:
		err = b.shadow()
	case config.KindBlueGreen:
		err = b.blueGreen()
	case config.KindGreen100, config.KindRollback:
		err = b.toGreen()
	default:
		err = fmt.Errorf("unknown stage %q", cfg.Stage)
	}
	if err == nil {
		err = b.nothingDying()
	}
	if err == nil {
		err = b.capacity()
	}
	if err == nil {
		err = b.compatible()
	}
	if err != nil {
		return nil, err
	}
	return b.plan, nil
}

type builder struct {
	cfg  *config.Config
	live Live
	plan *Plan
	// services records the versions whose Service a step already applies.
	services map[config.Version]bool
}

func (b *builder) state(v config.Version) VersionState { return b.live.Versions[v] }

func (b *builder) add(s Step) { b.plan.Steps = append(b.plan.Steps, s) }

func (b *builder) refuse(format string, args ...any) *PreconditionError {
	return &PreconditionError{Stage: b.cfg.Stage.String(), Msg: fmt.Sprintf(format, args...)}
}

// deploy adds the steps that make version v run image and be ready. When its pods are about to be
// replaced (new image, changed spec, or a rollout that is not finished) while it receives traffic,
// it is unrouted first; a route someone else owns cannot be, so that refuses the stage.
func (b *builder) deploy(v config.Version, image string, current routing.Routing) error {
	st := b.state(v)
	replace := st.Deployed && (st.Image != image || !st.Current || !st.Ready)
	if replace && st.Paused {
		return b.refusePaused(v, "would roll out no change mlcanary writes")
	}
	if replace {
		if err := b.noForeignRoutes(v, "replace its pods"); err != nil {
			return err
		}
	}
	if replace {
		b.displace(v)
	}
	b.applyService(v)
	if replace && current.References(v) {
		current = withoutVersion(current, v)
		b.add(Step{Action: ApplyRoutes, Routing: current})
	}
	b.add(Step{Action: ApplyDeployment, Version: v, Image: image, Container: st.Container})
	b.add(Step{Action: WaitReady, Version: v})
	b.plan.Images[v] = image
	return nil
}

func (b *builder) applyService(v config.Version) {
	if !b.services[v] {
		b.services[v] = true
		b.add(Step{Action: ApplyService, Version: v})
	}
}

// route makes sure every version r sends traffic to has its Service, then routes.
func (b *builder) route(r routing.Routing) {
	for _, v := range config.Versions {
		if r.References(v) {
			b.applyService(v)
		}
	}
	if b.binding().OwnGateway {
		b.add(Step{Action: ApplyGateway})
	}
	b.add(Step{Action: ApplyRoutes, Routing: r})
	b.plan.Final = r
}

// remove deletes v's Deployment and Service, unless a route mlcanary cannot unroute still sends
// traffic to it: then Rollback (the failure path, which must not fail) keeps v and says why, and
// any other stage is refused. Without a Deployment there is nothing to keep but the Service, which
// such a route still names, so it stays.
func (b *builder) remove(v config.Version) error {
	if refs := b.live.Foreign[v]; len(refs) > 0 {
		if !b.state(v).Deployed {
			return nil
		}
		if b.cfg.Stage.Kind == config.KindRollback {
			b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("%s was kept: %s, which %s not mlcanary's, still %s traffic to it",
				v, joinRefs(refs), plural(refs, "is", "are"), plural(refs, "sends", "send")))
			return nil
		}
		return b.noForeignRoutes(v, "remove it")
	}
	st := b.state(v)
	if b.live.OwnAutoscaler[v] { // mlcanary's copy goes with the version, even when its Deployment stays
		b.add(Step{Action: DeleteAutoscaler, Version: v})
	}
	if st.DeploymentManager == "" {
		if st.Deployed {
			b.displace(v)
		}
		b.add(Step{Action: DeleteDeployment, Version: v})
		b.plan.Images[v] = ""
	} else {
		b.leftInPlace("Deployment", b.cfg.Objects[v].Deployment, st.DeploymentManager)
	}
	if st.ServiceManager == "" {
		b.add(Step{Action: DeleteService, Version: v})
	} else {
		b.leftInPlace("Service", b.cfg.Objects[v].Service, st.ServiceManager)
	}
	return nil
}

// leftInPlace notes an object the stage would remove but does not, because mlcanary did not create
// it: deleting another manager's object (a Helm release's) breaks that manager's next upgrade,
// rollback or uninstall. It is unrouted like any other; its manager removes it.
func (b *builder) leftInPlace(kind, name, manager string) {
	b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("left %s %s/%s (%s) in place: mlcanary deletes only what it created; it receives no traffic", kind, b.cfg.Namespace, name, manager))
}

func (b *builder) displace(v config.Version) {
	if !slices.Contains(b.plan.Displaces, v) {
		b.plan.Displaces = append(b.plan.Displaces, v)
	}
}

// noForeignRoutes refuses the stage when a route mlcanary cannot unroute sends traffic to v, e.g.
// "route qa-blue of VirtualService ns/qa-routes is not mlcanary's and sends traffic to blue
// (Service ns/model-svc-blue), so mlcanary cannot remove it; remove that route or point it
// elsewhere first; that VirtualService is managed by Helm release qa, field manager helm"
// — who manages each object, when known, so the platform engineer knows whom to ask.
func (b *builder) noForeignRoutes(v config.Version, doing string) error {
	if refs := b.live.Foreign[v]; len(refs) > 0 {
		return b.refuse("%s %s not mlcanary's and %s traffic to %s (Service %s/%s), so mlcanary cannot %s; remove %s or point %s elsewhere first%s",
			joinRefs(refs), plural(refs, "is", "are"), plural(refs, "sends", "send"), v, b.cfg.Namespace, b.cfg.Objects[v].Service, doing,
			plural(refs, "that route", "those routes"), plural(refs, "it", "them"), managers(refs))
	}
	return nil
}

// managers is "; " before each distinct "Kind ns/name is managed by …" of refs ("; that
// VirtualService is managed by …" when every ref is in one object, already named), "" when none
// is known.
func managers(refs []routing.Reference) string {
	var s []string
	objects := map[string]bool{}
	for _, r := range refs {
		objects[r.Kind+" "+r.Namespace+"/"+r.VirtualService] = true
		if m := r.Managed(); m != "" && !slices.Contains(s, m) {
			s = append(s, m)
		}
	}
	switch {
	case len(s) == 0:
		return ""
	case len(objects) == 1:
		kind := refs[0].Kind
		if kind == "" {
			kind = "VirtualService"
		}
		return "; that " + kind + " is managed by " + refs[0].Manager
	}
	return "; " + strings.Join(s, "; ")
}

func joinRefs(refs []routing.Reference) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

func plural(refs []routing.Reference, one, many string) string {
	if len(refs) == 1 {
		return one
	}
	return many
}

func withoutVersion(r routing.Routing, v config.Version) routing.Routing {
	out := routing.NewRouting(r.Headers[config.Green], r.Headers[config.Blue], r.Weights[config.Green], r.Weights[config.Blue])
	if v != config.Blue { // the mirror goes to blue: it goes with blue's routes
		out.Mirror = r.Mirror
	}
	out.Headers[v] = false
	if out.Weights[v] > 0 {
		out.Weights[v.Other()] += out.Weights[v]
		out.Weights[v] = 0
	}
	return out
}
