package engine

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// liveState is what a run read from the cluster before deciding anything.
type liveState struct {
	cfg         *config.Config
	deployments map[config.Version]*unstructured.Unstructured
	services    map[config.Version]*unstructured.Unstructured
	vs          *unstructured.Unstructured
	// others are the other VirtualServices readOthers read (othersRead), for routes to a version;
	// othersNote says when only the namespace's could be read.
	others     []*unstructured.Unstructured
	othersRead bool
	othersNote string
	// routeRefs are the routes to a version in Ingresses and Gateway API routes (readRoutes, read
	// with others); routeNotes say which kinds could not be read.
	routeRefs  map[config.Version][]routing.Reference
	routeNotes []string
	// autoscaled names the Deployments a HorizontalPodAutoscaler scales (readAutoscaled);
	// autoscaledNote says when they could not be listed.
	autoscaled     map[string]bool
	autoscaledNote string
	// boundGateway is what is known of an existing Gateway the VirtualService binds to.
	boundGateway plan.GatewayState
	decided      *plan.Live // facts(), computed once
}

// observe checks that Istio and the namespace exist and reads both Deployments, both Services and
// the VirtualService: seven requests (eight when it binds to a Gateway in another namespace), plus
// one list of HorizontalPodAutoscalers when a Deployment mlcanary created exists.
func (c *Client) observe(ctx context.Context, cfg *config.Config) (*liveState, error) {
	if err := c.cluster.CheckIstio(ctx, cfg.Namespace); err != nil {
		return nil, err
	}
	ns, err := c.cluster.Get(ctx, kube.Namespaces, "", cfg.Namespace)
	if err != nil && !kube.IsForbidden(err) { // a namespace-scoped role may not read namespaces
		return nil, err
	}
	if ns == nil && err == nil {
		return nil, fmt.Errorf("namespace %q does not exist; create it first (kubectl create namespace %s, labelled istio-injection=enabled for the sidecars)", cfg.Namespace, cfg.Namespace)
	}
	l, err := c.readRouting(ctx, cfg)
	if err != nil {
		return nil, err
	}
	l.services = map[config.Version]*unstructured.Unstructured{}
	for _, v := range config.Versions {
		if l.services[v], err = c.cluster.Get(ctx, kube.Services, cfg.Namespace, cfg.Objects[v].Service); err != nil {
			return nil, err
		}
	}
	if l.boundGateway, err = c.boundGateway(ctx, cfg, ownership.BindingOf(cfg, l.vs)); err != nil {
		return nil, err
	}
	if err := c.readAutoscaled(ctx, l); err != nil {
		return nil, err
	}
	return l, nil
}

// boundGateway reads the existing Gateway in another namespace that the VirtualService is bound to
// (gateway input NAMESPACE/NAME): one request, made only then. Credentials without access to that
// namespace are not an error: the plan notes that the Gateway was not checked.
func (c *Client) boundGateway(ctx context.Context, cfg *config.Config, b routing.Binding) (plan.GatewayState, error) {
	ns, name, external := cfg.GatewayRef()
	if !external || b.Gateway == "" {
		return plan.GatewayUnchecked, nil
	}
	gw, err := c.cluster.Get(ctx, kube.Gateways, ns, name)
	switch {
	case refused(err):
		return plan.GatewayUnreadable, nil
	case err != nil:
		return plan.GatewayUnchecked, err
	case gw == nil:
		return plan.GatewayAbsent, nil
	}
	return plan.GatewayPresent, nil
}

// readRouting reads what status is derived from: both Deployments and the VirtualService.
func (c *Client) readRouting(ctx context.Context, cfg *config.Config) (*liveState, error) {
	l := &liveState{cfg: cfg, deployments: map[config.Version]*unstructured.Unstructured{}}
	var err error
	for _, v := range config.Versions {
		if l.deployments[v], err = c.cluster.Get(ctx, kube.Deployments, cfg.Namespace, cfg.Objects[v].Deployment); err != nil {
			return nil, err
		}
	}
	if l.vs, err = c.cluster.Get(ctx, kube.VirtualServices, cfg.Namespace, cfg.VirtualService); err != nil {
		return nil, err
	}
	return l, nil
}

// facts converts the live objects into the facts package plan decides on (once: it renders
// both Deployments to tell whether they are current).
func (l *liveState) facts() plan.Live {
	if l.decided == nil {
		f := l.derive()
		l.decided = &f
	}
	return *l.decided
}

func (l *liveState) derive() plan.Live {
	binding := ownership.BindingOf(l.cfg, l.vs)
	p := plan.Live{
		Binding:      &binding,
		BoundGateway: l.boundGateway,
		Versions:     map[config.Version]plan.VersionState{},
		Routing:      ownership.RoutingOf(l.cfg, l.vs),
		Foreign:      ownership.ForeignReferences(l.cfg, append([]*unstructured.Unstructured{l.vs}, l.others...)...),
	}
	for v, refs := range l.routeRefs {
		p.Foreign[v] = append(p.Foreign[v], refs...)
	}
	for _, v := range config.Versions {
		d := l.deployments[v]
		r := kube.RolloutOf(d)
		container, image := scoringContainer(d)
		p.Versions[v] = plan.VersionState{
			Deployed: r.Exists, Ready: r.Done, Image: image, Container: container,
			Current: r.Exists && l.current(v, d, image, container), Available: r.Available, Wanted: r.Wanted, Reason: r.Reason,
			Shape: shapeOf(d), Service: serviceOf(l.services[v], l.cfg.Port),
		}
	}
	return p
}

// current reports whether applying v's Deployment with its live image would write nothing.
func (l *liveState) current(v config.Version, d *unstructured.Unstructured, image, container string) bool {
	obj, merge := l.deployment(v, image, container)
	desired, err := desiredObject(obj, d, merge)
	return err == nil && upToDate(desired, d)
}

// imageOf returns the scoring container's image.
func imageOf(d *unstructured.Unstructured) string {
	_, image := scoringContainer(d)
	return image
}

// scoringContainer returns the name and image of the container named "model", else of the first.
func scoringContainer(d *unstructured.Unstructured) (name, image string) {
	if d == nil {
		return "", ""
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for i, c := range containers {
		m, _ := c.(map[string]any)
		n, _, _ := unstructured.NestedString(m, "name")
		if i == 0 || n == config.ContainerName {
			name = n
			image, _, _ = unstructured.NestedString(m, "image")
		}
	}
	return name, image
}
