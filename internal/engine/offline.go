package engine

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/plan"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Placeholders stand for images only the cluster knows, in an offline plan.
const (
	GreenImagePlaceholder = "<green's image on the cluster>"
	BlueImagePlaceholder  = "<blue's image on the cluster>"
)

// Offline plans cfg.Stage with no cluster, assuming the stage's preconditions hold on a cluster in
// the middle of the documented flow (green live; blue deployed for every stage after Blue_0). It
// returns the objects the stage writes, as YAML, and the traffic split it establishes.
func Offline(cfg config.Config) (*summary.Result, error) {
	cfg.DryRun = true
	p, err := plan.Make(&cfg, assumed(&cfg))
	if err != nil {
		return nil, err
	}
	res := newResult("plan", &cfg)
	res.Notes = append([]string{"offline plan: no cluster was contacted; it assumes the stage's preconditions hold"}, p.Notes...)
	var docs []string
	for _, s := range p.Steps {
		obj, change := offlineStep(&cfg, s)
		res.Changes = append(res.Changes, change)
		if obj != nil && (s.Action != plan.ApplyRoutes || s.Routing.Equal(p.Final)) {
			data, err := renderYAML(obj)
			if err != nil {
				return nil, err
			}
			docs = append(docs, data)
		}
	}
	res.Changed = true
	res.Objects = strings.Join(docs, "---\n")
	setRouting(res, &cfg, p.Final)
	res.Images = summary.Images{Green: p.Images[config.Green], Blue: p.Images[config.Blue]}
	res.Ready = summary.Ready{Green: res.Images.Green != "", Blue: res.Images.Blue != ""}
	return res, nil
}

// assumed is the live state in which cfg.Stage's preconditions hold.
func assumed(cfg *config.Config) plan.Live {
	blueImage := cfg.Image
	if blueImage == "" {
		blueImage = BlueImagePlaceholder
	}
	ready := func(image string) plan.VersionState {
		return plan.VersionState{Deployed: true, Ready: true, Current: true, Image: image, Available: int64(cfg.Replicas), Wanted: int64(cfg.Replicas)}
	}
	live := plan.Live{Versions: map[config.Version]plan.VersionState{config.Green: ready(GreenImagePlaceholder)}}
	switch cfg.Stage.Kind {
	case config.KindBlue0:
		live.Routing = routing.NewRouting(true, false, 100, 0)
	case config.KindGreen100:
		live.Versions[config.Green] = ready(blueImage)
		live.Versions[config.Blue] = ready(blueImage)
		live.Routing = routing.NewRouting(true, true, 0, 100)
	default:
		live.Versions[config.Blue] = ready(blueImage)
		live.Routing = routing.NewRouting(true, true, 0, 100)
	}
	return live
}

// offlineStep returns the object a step writes (nil for waits and deletes) and a line saying what it does.
func offlineStep(cfg *config.Config, s plan.Step) (any, string) {
	ns := cfg.Namespace
	switch s.Action {
	case plan.ApplyGateway:
		return render.Gateway(cfg), fmt.Sprintf("apply Gateway %s/%s", ns, cfg.Gateway)
	case plan.ApplyService:
		return render.Service(cfg, s.Version), fmt.Sprintf("apply Service %s/%s", ns, cfg.Objects[s.Version].Service)
	case plan.ApplyDeployment:
		return render.Deployment(cfg, s.Version, s.Image, s.Container), fmt.Sprintf("apply Deployment %s/%s (image %s)", ns, cfg.Objects[s.Version].Deployment, s.Image)
	case plan.WaitReady:
		return nil, fmt.Sprintf("wait up to %s for Deployment %s/%s to be ready", cfg.Timeout, ns, cfg.Objects[s.Version].Deployment)
	case plan.ApplyRoutes:
		return render.VirtualService(cfg, s.Routing), fmt.Sprintf("route VirtualService %s/%s: %s", ns, cfg.VirtualService, describeRouting(s.Routing, s.Routing))
	case plan.DeleteDeployment:
		return nil, fmt.Sprintf("delete Deployment %s/%s", ns, cfg.Objects[s.Version].Deployment)
	case plan.DeleteService:
		return nil, fmt.Sprintf("delete Service %s/%s", ns, cfg.Objects[s.Version].Service)
	}
	return nil, string(s.Action)
}

func renderYAML(obj any) (string, error) {
	u, err := render.Unstructured(obj)
	if err != nil {
		return "", err
	}
	data, err := yaml.Marshal(u.Object)
	if err != nil {
		return "", fmt.Errorf("rendering %s %s as YAML: %w", u.GetKind(), u.GetName(), err)
	}
	return string(data), nil
}
