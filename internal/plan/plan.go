// Package plan decides, as a pure function of the inputs and the observed cluster, what a stage
// must do and in which order: create and wait first, route second; unroute first, delete second.
// A stage whose precondition does not hold is refused here, before anything is written.
package plan

import (
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/render"
)

// VersionState is what the cluster says about one version.
type VersionState struct {
	// Deployed is true when the version's Deployment exists.
	Deployed bool
	// Ready is true when its rollout is complete and every replica is available.
	Ready bool
	// Image is the scoring container's image.
	Image string
	// Container is the scoring container's name (kept for a Deployment mlcanary adopted).
	Container string
	// Current is true when applying the Deployment with its live image would change nothing.
	Current bool
	// Available and Wanted are replica counts, and Reason explains an unfinished rollout, for messages.
	Available, Wanted int64
	Reason            string
}

// Live is the observed state a plan starts from.
type Live struct {
	Versions map[config.Version]VersionState
	// Routing is what the VirtualService sends where now (empty when it does not exist).
	Routing render.Routing
	// Foreign names, per version, the routes someone else added that send traffic to it.
	Foreign map[config.Version][]string
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
)

// Step is one ordered action.
type Step struct {
	Action  Action
	Version config.Version `json:",omitempty"`
	// Image and Container are set for ApplyDeployment.
	Image     string `json:",omitempty"`
	Container string `json:",omitempty"`
	// Routing is set for ApplyRoutes.
	Routing render.Routing `json:",omitzero"`
}

// Plan is the ordered steps of a stage and what holds when they are done.
type Plan struct {
	Steps []Step
	// Final is the routing after the stage.
	Final render.Routing
	// Images are the images each version runs after the stage ("" when removed or absent).
	Images map[config.Version]string
	// Notes explain a choice a reader might not expect (e.g. a first release).
	Notes []string
}

// PreconditionError is a stage refused before any write, naming what does not hold and which
// stage establishes it.
type PreconditionError struct {
	Stage string
	Msg   string
	// Unready is set when the only problem is that this version's rollout has not finished: the
	// caller may wait for it and plan again.
	Unready config.Version
}

// Error reads "Stage: what does not hold; which stage establishes it".
func (e *PreconditionError) Error() string { return e.Stage + ": " + e.Msg }

// Make plans cfg.Stage from live.
func Make(cfg *config.Config, live Live) (*Plan, error) {
	b := &builder{cfg: cfg, live: live, plan: &Plan{Images: map[config.Version]string{}}, services: map[config.Version]bool{}}
	for _, v := range config.Versions {
		b.plan.Images[v] = live.Versions[v].Image
	}
	var err error
	switch cfg.Stage.Kind {
	case config.KindBlue0:
		err = b.blue0()
	case config.KindBlueN, config.KindBlue100:
		err = b.shift()
	case config.KindBlueGreen:
		err = b.blueGreen()
	case config.KindGreen100, config.KindRollback:
		err = b.toGreen()
	default:
		err = fmt.Errorf("unknown stage %q", cfg.Stage)
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

func (b *builder) refuse(format string, args ...any) error {
	return &PreconditionError{Stage: b.cfg.Stage.String(), Msg: fmt.Sprintf(format, args...)}
}

// deploy adds the steps that make version v run image and be ready. When its pods are about to be
// replaced (new image, changed spec, or a rollout that is not finished) while it receives traffic,
// it is unrouted first; a route someone else owns cannot be, so that refuses the stage.
func (b *builder) deploy(v config.Version, image string, current render.Routing) (render.Routing, error) {
	st := b.state(v)
	replace := st.Deployed && (st.Image != image || !st.Current || !st.Ready)
	if replace {
		if err := b.noForeignRoutes(v, "replace its pods"); err != nil {
			return current, err
		}
	}
	b.applyService(v)
	if replace && current.References(v) {
		current = withoutVersion(current, v)
		b.add(Step{Action: ApplyRoutes, Routing: current})
	}
	b.add(Step{Action: ApplyDeployment, Version: v, Image: image, Container: st.Container})
	b.add(Step{Action: WaitReady, Version: v})
	b.plan.Images[v] = image
	return current, nil
}

func (b *builder) applyService(v config.Version) {
	if !b.services[v] {
		b.services[v] = true
		b.add(Step{Action: ApplyService, Version: v})
	}
}

// route makes sure every version r sends traffic to has its Service, then routes.
func (b *builder) route(r render.Routing) {
	for _, v := range config.Versions {
		if r.References(v) {
			b.applyService(v)
		}
	}
	b.add(Step{Action: ApplyGateway})
	b.add(Step{Action: ApplyRoutes, Routing: r})
	b.plan.Final = r
}

func (b *builder) remove(v config.Version) error {
	if routes := b.live.Foreign[v]; len(routes) > 0 && b.state(v).Deployed {
		if b.cfg.Stage.Kind == config.KindRollback { // the failure path must not fail: keep blue
			b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("%s was kept: route %s, which is not mlcanary's, still sends traffic to it", v, strings.Join(routes, ", ")))
			return nil
		}
		return b.noForeignRoutes(v, "remove it")
	}
	b.add(Step{Action: DeleteDeployment, Version: v})
	b.add(Step{Action: DeleteService, Version: v})
	b.plan.Images[v] = ""
	return nil
}

func (b *builder) noForeignRoutes(v config.Version, doing string) error {
	if routes := b.live.Foreign[v]; len(routes) > 0 {
		return b.refuse("route %s of VirtualService %s/%s is not mlcanary's and sends traffic to %s (Service %s), so mlcanary cannot %s; remove that route or point it elsewhere first",
			strings.Join(routes, ", "), b.cfg.Namespace, b.cfg.VirtualService, v, b.cfg.Objects[v].Service, doing)
	}
	return nil
}

func withoutVersion(r render.Routing, v config.Version) render.Routing {
	out := render.NewRouting(r.Headers[config.Green], r.Headers[config.Blue], r.Weights[config.Green], r.Weights[config.Blue])
	out.Headers[v] = false
	if out.Weights[v] > 0 {
		out.Weights[v.Other()] += out.Weights[v]
		out.Weights[v] = 0
	}
	return out
}
