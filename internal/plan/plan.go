// Package plan decides, as a pure function of the inputs and the observed cluster, what a stage
// must do and in which order: create and wait first, route second; unroute first, delete second.
// A stage whose precondition does not hold is refused here, before anything is written.
package plan

import (
	"fmt"

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
	// Available and Wanted are replica counts, for messages.
	Available, Wanted int64
}

// Live is the observed state a plan starts from.
type Live struct {
	Versions map[config.Version]VersionState
	// Routing is what the VirtualService sends where now (empty when it does not exist).
	Routing render.Routing
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
	// Image is set for ApplyDeployment.
	Image string `json:",omitempty"`
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

func (e *PreconditionError) Error() string { return e.Stage + ": " + e.Msg }

// Make plans cfg.Stage from live.
func Make(cfg *config.Config, live Live) (*Plan, error) {
	b := &builder{cfg: cfg, live: live, plan: &Plan{Images: map[config.Version]string{}}}
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
}

func (b *builder) state(v config.Version) VersionState { return b.live.Versions[v] }

func (b *builder) add(s Step) { b.plan.Steps = append(b.plan.Steps, s) }

func (b *builder) refuse(format string, args ...any) error {
	return &PreconditionError{Stage: b.cfg.Stage.String(), Msg: fmt.Sprintf(format, args...)}
}

// deploy adds the steps that make version v run image and be ready, unrouting v first when its
// pods are about to be replaced while it still receives traffic.
func (b *builder) deploy(v config.Version, image string, current render.Routing) render.Routing {
	st := b.state(v)
	b.add(Step{Action: ApplyService, Version: v})
	if st.Deployed && st.Image != image && current.References(v) {
		current = withoutVersion(current, v)
		b.add(Step{Action: ApplyRoutes, Routing: current})
	}
	b.add(Step{Action: ApplyDeployment, Version: v, Image: image})
	b.add(Step{Action: WaitReady, Version: v})
	b.plan.Images[v] = image
	return current
}

func (b *builder) route(r render.Routing) {
	b.add(Step{Action: ApplyGateway})
	b.add(Step{Action: ApplyRoutes, Routing: r})
	b.plan.Final = r
}

func (b *builder) remove(v config.Version) {
	b.add(Step{Action: DeleteDeployment, Version: v})
	b.add(Step{Action: DeleteService, Version: v})
	b.plan.Images[v] = ""
}

func withoutVersion(r render.Routing, v config.Version) render.Routing {
	out := routing(r.Headers[config.Green], r.Headers[config.Blue], r.Weights[config.Green], r.Weights[config.Blue])
	out.Headers[v] = false
	if out.Weights[v] > 0 {
		out.Weights[v.Other()] += out.Weights[v]
		out.Weights[v] = 0
	}
	return out
}

func routing(greenHeader, blueHeader bool, green, blue int) render.Routing {
	return render.Routing{
		Headers: map[config.Version]bool{config.Green: greenHeader, config.Blue: blueHeader},
		Weights: map[config.Version]int{config.Green: green, config.Blue: blue},
	}
}
