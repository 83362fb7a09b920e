package engine

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/plan"
	"github.com/mlcanary/mlcanary/internal/render"
)

// liveState is what a run read from the cluster before deciding anything.
type liveState struct {
	cfg         *config.Config
	deployments map[config.Version]*unstructured.Unstructured
	vs          *unstructured.Unstructured
}

// observe checks that Istio and the namespace exist and reads both Deployments and the
// VirtualService: five requests.
func (c *Client) observe(ctx context.Context, cfg *config.Config) (*liveState, error) {
	if err := c.kube.CheckIstio(ctx, cfg.Namespace); err != nil {
		return nil, err
	}
	ns, err := c.kube.Get(ctx, kube.Namespaces, "", cfg.Namespace)
	if err != nil {
		return nil, err
	}
	if ns == nil {
		return nil, fmt.Errorf("namespace %q does not exist; create it first (kubectl create namespace %s, labelled istio-injection=enabled for the sidecars)", cfg.Namespace, cfg.Namespace)
	}
	l := &liveState{cfg: cfg, deployments: map[config.Version]*unstructured.Unstructured{}}
	for _, v := range config.Versions {
		if l.deployments[v], err = c.kube.Get(ctx, kube.Deployments, cfg.Namespace, cfg.Objects[v].Deployment); err != nil {
			return nil, err
		}
	}
	if l.vs, err = c.kube.Get(ctx, kube.VirtualServices, cfg.Namespace, cfg.VirtualService); err != nil {
		return nil, err
	}
	return l, nil
}

// plan converts the live objects into the facts package plan decides on.
func (l *liveState) plan() plan.Live {
	p := plan.Live{Versions: map[config.Version]plan.VersionState{}, Routing: render.LiveRouting(l.cfg, l.vs)}
	for _, v := range config.Versions {
		d := l.deployments[v]
		r := kube.RolloutOf(d)
		p.Versions[v] = plan.VersionState{Deployed: r.Exists, Ready: r.Done, Image: imageOf(d), Available: r.Available, Wanted: r.Wanted}
	}
	return p
}

// imageOf returns the scoring container's image (the container named "model", else the first).
func imageOf(d *unstructured.Unstructured) string {
	if d == nil {
		return ""
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	image := ""
	for i, c := range containers {
		m, _ := c.(map[string]any)
		img, _, _ := unstructured.NestedString(m, "image")
		name, _, _ := unstructured.NestedString(m, "name")
		if i == 0 || name == render.ContainerName {
			image = img
		}
	}
	return image
}
