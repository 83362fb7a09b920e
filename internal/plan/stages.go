package plan

import (
	"fmt"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

const firstRelease = "first release: there is no green yet, so the default route sends green's share to blue; Blue_Green creates green from blue's image"

// blue0 deploys the image as blue next to green and routes to it by header only.
func (b *builder) blue0() error {
	green, blue := b.state(config.Green), b.state(config.Blue)
	if err := b.needReadyGreenIfDeployed(); err != nil {
		return err
	}
	current := b.live.Routing
	if current.Weights[config.Blue] > 0 && !green.Deployed {
		return b.refuse("blue (Deployment %s/%s) serves %d%% of traffic with %s and there is no green to move that traffic to, so Blue_0 (no default traffic on blue) cannot hold; finish this release with Blue_Green and Green_100 first",
			b.cfg.Namespace, b.cfg.Objects[config.Blue].Deployment, current.Weights[config.Blue], blue.Image)
	}
	if err := b.deploy(config.Blue, b.cfg.Image, current); err != nil {
		return err
	}
	if b.live.Autoscaled[config.Green] && (!b.live.Autoscaled[config.Blue] || b.live.OwnAutoscaler[config.Blue]) {
		if b.live.CopyRefused != "" {
			return b.refuse("%s", b.live.CopyRefused)
		}
		b.add(Step{Action: ApplyAutoscaler, Version: config.Blue}) // a copy of green's
	}
	if b.live.AutoscalersRead && !b.live.Autoscaled[config.Green] && b.live.OwnAutoscaler[config.Blue] {
		// green's autoscaler is gone: blue's copy of it would scale blue on settings nobody keeps
		b.add(Step{Action: DeleteAutoscaler, Version: config.Blue})
		b.plan.Notes = append(b.plan.Notes, "blue's copy of green's autoscaler is removed: green has no autoscaler any more, so blue keeps the replicas it runs")
	}
	if !green.Deployed {
		b.plan.Notes = append(b.plan.Notes, "first release: there is no green yet, so there is no default route; blue answers only requests with the header")
		b.route(routing.NewRouting(false, true, 0, 0))
		return nil
	}
	b.route(routing.NewRouting(true, true, 100, 0))
	return nil
}

// shift moves the default route to the stage's blue weight.
func (b *builder) shift() error {
	if err := b.needReadyBlue("Blue_0 deploys it"); err != nil {
		return err
	}
	if err := b.needReadyGreenIfDeployed(); err != nil {
		return err
	}
	green, blueW := 100-b.cfg.Stage.BlueWeight, b.cfg.Stage.BlueWeight
	if !b.state(config.Green).Deployed {
		b.plan.Notes = append(b.plan.Notes, firstRelease)
		green, blueW = 0, 100
	}
	b.route(routing.NewRouting(b.state(config.Green).Deployed, true, green, blueW))
	return nil
}

// blueGreen gives green blue's image while blue carries all traffic.
func (b *builder) blueGreen() error {
	if err := b.needReadyBlue("Blue_0 deploys it"); err != nil {
		return err
	}
	if blue := b.state(config.Blue); blue.Shape.Adopted && !b.state(config.Green).Shape.Adopted {
		// green gets the whole pod template of blue, whose scoring container must be known.
		if err := b.adoptedContainer(fmt.Sprintf("Deployment %s/%s", b.cfg.Namespace, b.cfg.Objects[config.Blue].Deployment), blue.Shape.Containers); err != nil {
			return err
		}
	}
	if w := b.live.Routing.Weights; w[config.Blue] != 100 {
		return b.refuse("all traffic must be on blue before green is replaced, but the default route sends green %d%%, blue %d%%; Blue_100 establishes that", w[config.Green], w[config.Blue])
	}
	if err := b.deploy(config.Green, b.state(config.Blue).Image, b.live.Routing); err != nil {
		return err
	}
	if b.live.Autoscaled[config.Green] && b.live.Autoscaled[config.Blue] {
		b.add(Step{Action: ApplyAutoscaler, Version: config.Green}) // blue's settings
	}
	b.route(routing.NewRouting(true, true, 0, 100))
	return nil
}

// toGreen sends all traffic to green and removes blue (Green_100 after Blue_Green; Rollback any time).
func (b *builder) toGreen() error {
	green, blue := b.state(config.Green), b.state(config.Blue)
	stageThatMakesGreen := "Blue_Green creates it from blue's image"
	if !green.Deployed || !green.Ready {
		if b.cfg.Stage.Kind == config.KindRollback {
			stageThatMakesGreen = "there is nothing to roll back to; fix or redeploy green before rolling back"
		}
		return b.needReady(config.Green, stageThatMakesGreen)
	}
	if b.cfg.Stage.Kind == config.KindGreen100 {
		if blue.Deployed && green.Image != blue.Image {
			return b.refuse("green runs %s but blue runs %s, so removing blue would drop the new model; Blue_Green puts blue's image on green (Rollback returns to the old green on purpose)", green.Image, blue.Image)
		}
		if b.cfg.Image != "" && green.Image != b.cfg.Image {
			return b.refuse("green runs %s, not the requested %s; Blue_0 through Blue_Green release a new image", green.Image, b.cfg.Image)
		}
		// An adopted green keeps its own pod spec (Blue_Green sets only its image): no template to compare.
		if blue.Deployed && !green.Shape.Adopted && green.TemplateHash != blue.TemplateHash {
			return b.refuse("green runs %s but blue runs %s, so removing blue would drop the new pod template; Blue_Green puts blue's whole pod template on green", templateName(green.TemplateHash), templateName(blue.TemplateHash))
		}
		if err := b.sameTemplate(config.Green, "Blue_0 through Blue_Green release a new pod template"); err != nil {
			return err
		}
	}
	b.route(routing.NewRouting(true, false, 100, 0))
	return b.remove(config.Blue)
}

// shadow keeps the default route's weights where Blue_0 left them — all traffic on green — and
// mirrors the stage's share of its requests to blue (Shadow_N). Blue must exist and be ready (its
// mirror is a route: make-before-break), and green too: a mirror copies the requests of a default
// route, which sends them to green. A blue that already carries default traffic (Blue_N and later)
// is refused rather than moved back: taking its share away is Blue_0's decision, not a mirror's,
// and mirroring a route that sends blue part of the traffic would give blue those requests twice.
func (b *builder) shadow() error {
	if err := b.needReadyBlue("Blue_0 deploys it"); err != nil {
		return err
	}
	if !b.state(config.Green).Deployed && b.state(config.Green).Deleting == "" {
		return b.refuse("green (Deployment %s/%s) must exist and serve the default route, whose requests Shadow_N copies to blue, but there is no green yet (a first release); Blue_100, Blue_Green and Green_100 finish the first release",
			b.cfg.Namespace, b.cfg.Objects[config.Green].Deployment)
	}
	if err := b.needReadyGreenIfDeployed(); err != nil {
		return err
	}
	if w := b.live.Routing.Weights; w[config.Blue] > 0 {
		return b.refuse("blue must have no default traffic for its answers to be discarded, but the default route sends green %d%%, blue %d%%; a Shadow stage comes between Blue_0 and Blue_N, so run Blue_0 to take blue's share back to green first (or go on with Blue_N)",
			w[config.Green], w[config.Blue])
	}
	b.plan.Warnings = append(b.plan.Warnings, MirrorWarning)
	r := routing.NewRouting(true, true, 100, 0)
	r.Mirror = b.cfg.Stage.Mirror
	b.route(r)
	return nil
}

// MirrorWarning is the warning every Shadow_N plan carries: mirrored requests are real requests.
// Istio 1.28 and later no longer append "-shadow" to a mirrored request's Host/authority, so blue
// cannot tell a copy from a client's request.
const MirrorWarning = "mirrored requests reach blue as real requests (Istio 1.28 and later no longer add -shadow to their Host), and only their answers are discarded: a scoring service with side effects — writing to a database, billing, calling other services — must not be mirrored"
