package engine

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	// typed are the Deployments as typed structs and serviceStates what the Services say, each
	// converted as its read arrived (readVersions).
	typed         map[config.Version]*appsv1.Deployment
	serviceStates map[config.Version]plan.ServiceState
	vs            *unstructured.Unstructured
	// others are the other VirtualServices readOthers read (othersRead), for routes to a version;
	// othersNote says when only the namespace's could be read.
	others     []*unstructured.Unstructured
	othersRead bool
	othersNote string
	// routeRefs are the routes to a version in Ingresses and Gateway API routes (readRoutes, read
	// with others); routeNotes say which kinds could not be read.
	routeRefs  map[config.Version][]routing.Reference
	routeNotes []string
	// peersChecked is set when gatewayPeers checked the other VirtualServices on the Gateway;
	// peersRecorded is then what PeersCheckedAnnotation records of it ("" when nothing may be).
	peersChecked  bool
	peersRecorded string
	// autoscaled names the Deployments a HorizontalPodAutoscaler scales (readAutoscaled);
	// autoscaledNote says when they could not be listed.
	autoscaled      map[string]bool
	autoscaledNote  string
	autoscalersRead bool
	// autoscalers are, per version, the autoscaler that scales its Deployment; listedAutoscalers
	// every one readAutoscaled listed, whatever it scales (the names a copy must not take).
	autoscalers       map[config.Version]*autoscaler
	listedAutoscalers []*autoscaler
	// boundGateway is what is known of an existing Gateway the VirtualService binds to.
	boundGateway plan.GatewayState
	// gateway is mlcanary's Gateway (--gateway NAME) as observe read it for a stage (gatewayRead).
	gateway     *unstructured.Unstructured
	gatewayRead bool
	// namespace is the release's Namespace as readNamespace read it (namespaceRead), nil when
	// absent; namespaceErr the error that read returned.
	namespace     *unstructured.Unstructured
	namespaceErr  error
	namespaceRead bool
	// dyingGateways names (beingDeleted) the Gateway the routes are bound to when it is being deleted.
	dyingGateways []string
	decided       *plan.Live // facts(), computed once
	// read is what the observed objects say, each read once (observed).
	read *observed
}

// observed is what the observed objects say, read once per observed state: the VirtualService's
// binding and routing (package ownership), and the Deployments as typed structs (kube.DeploymentOf)
// for the facts that need no field fidelity — rollout, replicas, containers, selector.
type observed struct {
	binding routing.Binding
	routing routing.Routing
	typed   map[config.Version]*appsv1.Deployment
}

// observed reads the observed objects once (see observed).
func (l *liveState) observed() *observed {
	if l.read == nil {
		l.read = &observed{
			binding: ownership.BindingOf(l.cfg, l.vs),
			routing: ownership.RoutingOf(l.cfg, l.vs),
			typed:   l.typed,
		}
	}
	return l.read
}

// observe reads what a stage decides on, each object once, all at the same time (reads.go): the
// VirtualService (its read also fails when Istio is not installed), both Deployments, both Services
// and, for a stage (not status), the Gateway mlcanary may own: six requests, one round trip. Then,
// only when needed: the namespace, when none of these objects exists (to say that it is missing); a
// Gateway in another namespace the VirtualService binds to; the HorizontalPodAutoscalers (and KEDA's
// ScaledObjects when KEDA scales one), when a Deployment exists and the stage may write one or an
// autoscaler: Blue_0 and Blue_Green, and Green_100 and Rollback when blue's Deployment says it has
// mlcanary's copy of green's autoscaler (AutoscalerAnnotation), which they remove.
func (c *Client) observe(ctx context.Context, cfg *config.Config) (*liveState, error) {
	return c.observeFor(ctx, cfg, true)
}

func (c *Client) observeFor(ctx context.Context, cfg *config.Config, stage bool) (*liveState, error) {
	l := &liveState{cfg: cfg}
	var gateway func() error
	if _, _, external := cfg.GatewayRef(); stage && !external {
		gateway = func() (err error) {
			l.gateway, err = c.cluster.Get(ctx, kube.Gateways, cfg.Namespace, cfg.Gateway)
			l.gatewayRead = err == nil
			return err
		}
	}
	err := concurrently(
		func() (err error) {
			l.vs, err = c.cluster.Get(ctx, kube.VirtualServices, cfg.Namespace, cfg.VirtualService)
			return err
		},
		func() error { return c.readDeployments(ctx, l) },
		func() (err error) {
			serviceState := func(u *unstructured.Unstructured) plan.ServiceState { return serviceOf(u, cfg.Port) }
			l.services, l.serviceStates, err = readVersions(ctx, c, cfg, kube.Services, func(o config.Names) string { return o.Service }, serviceState)
			return err
		},
		gateway,
	)
	if err != nil {
		return nil, err
	}
	if l.nothingFound() {
		ns, err := c.readNamespace(ctx, l)
		if err != nil && !kube.IsForbidden(err) { // a namespace-scoped role may not read namespaces
			return nil, err
		}
		if ns == nil && err == nil {
			return nil, fmt.Errorf("namespace %q does not exist; create it first (kubectl create namespace %s, labelled istio-injection=enabled for the sidecars)", cfg.Namespace, cfg.Namespace)
		}
	}
	if l.boundGateway, l.dyingGateways, err = c.boundGateway(ctx, cfg, l.observed().binding); err != nil {
		return nil, err
	}
	if stage && l.needsAutoscalers() {
		if err := c.readAutoscaled(ctx, l); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// readNamespace reads the release's Namespace once per observed state (one get; the same answer,
// error included, when asked again): observe reads it when none of the release's objects exists (to
// say the namespace is missing), mesh for its sidecar-injection labels, and a first release needs
// both.
func (c *Client) readNamespace(ctx context.Context, l *liveState) (*unstructured.Unstructured, error) {
	if !l.namespaceRead {
		l.namespace, l.namespaceErr = c.cluster.Get(ctx, kube.Namespaces, "", l.cfg.Namespace)
		l.namespaceRead = true
	}
	return l.namespace, l.namespaceErr
}

// nothingFound reports whether none of the objects observe read exists.
func (l *liveState) nothingFound() bool {
	if l.vs != nil || l.gateway != nil {
		return false
	}
	for _, v := range config.Versions {
		if l.deployments[v] != nil || l.services[v] != nil {
			return false
		}
	}
	return true
}

// boundGateway reads the existing Gateway in another namespace that the VirtualService is bound to
// (gateway input NAMESPACE/NAME): one request, made only then. Credentials without access to that
// namespace are not an error: the plan notes that the Gateway was not checked. One being deleted
// is present, and named (beingDeleted) so that no stage writes routes bound to it.
func (c *Client) boundGateway(ctx context.Context, cfg *config.Config, b routing.Binding) (plan.GatewayState, []string, error) {
	ns, name, external := cfg.GatewayRef()
	if !external || b.Gateway == "" {
		return plan.GatewayUnchecked, nil, nil
	}
	gw, err := c.cluster.Get(kube.Optional(ctx), kube.Gateways, ns, name)
	switch {
	case refused(err):
		return plan.GatewayUnreadable, nil, nil
	case err != nil:
		return plan.GatewayUnchecked, nil, c.hinted(ctx, err)
	case gw == nil:
		return plan.GatewayAbsent, nil, nil
	}
	if d := beingDeleted(kube.Gateways, gw); d != "" {
		return plan.GatewayPresent, []string{d}, nil
	}
	return plan.GatewayPresent, nil, nil
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
	read := l.observed()
	binding := read.binding
	p := plan.Live{
		Binding:         &binding,
		BoundGateway:    l.boundGateway,
		Versions:        map[config.Version]plan.VersionState{},
		Routing:         read.routing,
		Foreign:         ownership.ForeignReferences(l.cfg, append([]*unstructured.Unstructured{l.vs}, l.others...)...),
		Autoscaled:      map[config.Version]bool{},
		AutoscalersRead: l.autoscalersRead,
		OwnAutoscaler:   map[config.Version]bool{},
	}
	if c := beingDeleted(kube.VirtualServices, l.vs); c != "" {
		p.Deleting = append(p.Deleting, c)
	}
	p.Deleting = append(p.Deleting, l.dyingGateways...)
	if read.binding.OwnGateway {
		if c := beingDeleted(kube.Gateways, l.gateway); c != "" {
			p.Deleting = append(p.Deleting, c)
		}
	}
	for v, refs := range l.routeRefs {
		p.Foreign[v] = append(p.Foreign[v], refs...)
	}
	for _, v := range config.Versions {
		d, typed := l.deployments[v], read.typed[v]
		r := kube.DeploymentRollout(typed)
		container, image := scoringContainer(typed, l.cfg.Container)
		p.Versions[v] = plan.VersionState{
			Deployed: r.Exists, Ready: r.Routable, Image: image, Container: container, TemplateHash: l.templateHash(v),
			Current: r.Exists && l.current(v, d, image, container), Available: r.Available, Wanted: r.Wanted, Reason: r.Reason,
			Shape: shapeOf(d, typed, container), Service: l.serviceStates[v], Paused: r.Exists && typed.Spec.Paused,
			DeploymentManager: ownership.ManagerOf(d), ServiceManager: ownership.ManagerOf(l.services[v]),
		}
		p.Versions[v] = dyingVersion(p.Versions[v], d, l.services[v])
		p.Autoscaled[v] = l.autoscaled[l.cfg.Objects[v].Deployment]
		p.OwnAutoscaler[v] = l.autoscalers[v] != nil && l.autoscalers[v].mine()
	}
	p.CopyRefused = l.copyRefused()
	return p
}

// current reports whether applying v's Deployment with its live image would write nothing.
func (l *liveState) current(v config.Version, d *unstructured.Unstructured, image, container string) bool {
	obj, merge := l.deployment(v, image, container)
	desired, err := desiredObject(obj, d, merge)
	return err == nil && upToDate(desired, d)
}

// scoringContainer returns the name and image of d's scoring container: the one a Deployment
// rendered from a pod template records (config.ContainerAnnotation), else config.PickContainer's
// choice with --container want (that container, else the only one, else the one named "model"),
// else the same without want. When no container can be picked (several, none named "model") the
// name is "" — package plan refuses to write such a Deployment (it would not know which container
// runs the model) — and the image is the first container's, for display only.
func scoringContainer(d *appsv1.Deployment, want string) (name, image string) {
	if d == nil {
		return "", ""
	}
	containers := d.Spec.Template.Spec.Containers
	names := make([]string, len(containers))
	for i, c := range containers {
		names[i] = c.Name
	}
	picked := d.Annotations[config.ContainerAnnotation]
	if picked == "" || !slices.Contains(names, picked) {
		var ok bool
		if picked, ok = config.PickContainer(names, want); !ok {
			picked, _ = config.PickContainer(names, "") // "" when several and none named model
		}
	}
	for _, c := range containers {
		if c.Name == picked {
			return c.Name, c.Image
		}
	}
	if len(containers) > 0 {
		return "", containers[0].Image
	}
	return "", ""
}

// typedDeployment is a live Deployment as the typed struct (nil for nil). The API server never
// returns a Deployment whose fields have the wrong type, the one thing kube.DeploymentOf fails on;
// such an object would read as one without spec or status (never ready, no containers).
func typedDeployment(u *unstructured.Unstructured) *appsv1.Deployment {
	d, err := kube.DeploymentOf(u)
	if err != nil {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: u.GetName(), Namespace: u.GetNamespace()}}
	}
	return d
}
