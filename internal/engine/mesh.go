package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/ingress"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// meshChecks is what the stage learnt about the Istio installation: notes and warnings for its
// result.
type meshChecks struct {
	notes, warnings []string
}

// mesh finds the ingress gateway and checks the namespace's sidecar injection, before the stage's
// first write and only where it matters:
//   - when the plan writes mlcanary's own Gateway and no --gateway-selector was given
//     (cfg.DetectGateway), it sets cfg.GatewaySelector: to the live Gateway's (liveSelector: one
//     observe read already, so nothing is sent) when the Gateway exists, the stage creates no pods
//     and its selector stands; otherwise to the one ingress.Choose picks from the known ingress
//     gateway Services (detect: ingress.Find, one list, or one per known namespace when the
//     credentials cannot list cluster-wide). So a stage that only moves traffic does not look for
//     the ingress gateway again; one that creates the Gateway, deploys a version (every release
//     begins with one) or is asked for another --ingress does.
//   - when the plan deploys a version whose pods are created or replaced (not a re-run that holds),
//     it warns when the pods would get no sidecar (ingress.Injection), from the namespace's labels
//     (one get, none when observe read it already: liveState.readNamespace); credentials that may
//     not read it leave a note.
//
// Offline (no lister) nothing is read: --ingress external|internal gives the add-on's selector,
// and otherwise the default stands, with a note.
func (c *Client) mesh(ctx context.Context, cfg *config.Config, p *plan.Plan, l *liveState, log Logger) (meshChecks, error) {
	var m meshChecks
	var found []ingress.Gateway
	live := l.facts()
	createsPods := slices.ContainsFunc(p.Steps, func(s plan.Step) bool { return s.Action == plan.ApplyDeployment && newPods(live, s) })
	if cfg.DetectGateway && slices.ContainsFunc(p.Steps, func(s plan.Step) bool { return s.Action == plan.ApplyGateway }) {
		selector, stands := liveSelector(cfg, l.gateway)
		switch {
		case c.lister == nil && cfg.AddOnIngress() != "":
			cfg.GatewaySelector = ingress.AddOnSelector(cfg.AddOnIngress())
		case c.lister == nil:
			m.notes = append(m.notes, fmt.Sprintf("the Gateway selects %s, Istio's default: a stage against the cluster detects the ingress gateway instead (AKS's Istio add-on: %s; --gateway-selector, --ingress)",
				cfg.GatewaySelector, ingress.AddOnSelector(ingress.External)))
		case stands && !createsPods:
			if selector != "" {
				cfg.GatewaySelector = selector
			}
		default:
			var err error
			if found, err = c.detect(ctx, cfg, l.gateway, &m, log); err != nil {
				return m, err
			}
		}
	}
	if c.lister != nil && createsPods {
		ns, err := c.readNamespace(ctx, l)
		switch {
		case refused(err):
			m.notes = append(m.notes, fmt.Sprintf("the sidecar injection of namespace %s was not checked: the credentials cannot get the namespace (optional)", cfg.Namespace))
		case err != nil:
			return m, fmt.Errorf("reading namespace %s: %w", cfg.Namespace, err)
		case ns != nil:
			var pod ingress.Pod // the template's own choice (sidecar.istio.io/inject, istio.io/rev)
			if t := cfg.Template; t != nil {
				pod = ingress.Pod{Labels: t.Spec.Labels, Annotations: t.Spec.Annotations}
			}
			if w := ingress.PodInjection(cfg.Namespace, ns.GetLabels(), pod, ingress.MeshOf(found, cfg.GatewaySelector)); w != "" {
				m.warnings = append(m.warnings, w)
			}
		}
	}
	for _, w := range m.warnings {
		log("warning: %s", w)
	}
	return m, nil
}

// liveSelector is the selector of mlcanary's live Gateway gw (as observe read it) and whether it
// stands, so the stage need not look for the ingress gateway: gw exists and either someone else
// created it (ownership.Adopted: mlcanary never sets its selector; "" unless it is one label) or
// its selector is one label that --ingress, when given, asks for (ingress.AddOnSelector). A
// Gateway not yet created, or one whose selector --ingress would change, does not stand.
func liveSelector(cfg *config.Config, gw *unstructured.Unstructured) (string, bool) {
	if gw == nil {
		return "", false
	}
	one := selectorOf(gw)
	switch {
	case ownership.Adopted(gw):
		return one, true
	case one == "":
		return "", false
	case cfg.AddOnIngress() != "":
		return one, one == ingress.AddOnSelector(cfg.AddOnIngress())
	}
	return one, true
}

// IngressAddress is the URL of the ingress gateway's load balancer that cfg's Gateway server is
// reached through (`verify --gateway auto`): the gateway Service the release's Gateway selects —
// the live Gateway's (--gateway) selector when neither --gateway-selector nor --ingress is given,
// which is what the stages wrote (one get; break-it review of #9, G7: a fresh detection measured
// the external gateway after a release through the internal one, or refused several) — else the
// one the stage's detection picks (cfg.DetectGateway: ingress.Choose with cfg.Ingress), or the one
// cfg.GatewaySelector selects, read with one list (ingress.Find), with the port of
// cfg.GatewayPort (ingress.Gateway.URL). A pending load balancer, or no such Service, is one
// sentence saying what to give instead.
func (c *Client) IngressAddress(ctx context.Context, cfg config.Config) (string, error) {
	if c.lister == nil {
		return "", errors.New("the ingress gateway's address can only be read from a cluster")
	}
	if cfg.DetectGateway && cfg.AddOnIngress() == "" {
		ns, name, _ := cfg.GatewayRef()
		live, err := c.cluster.Get(kube.Optional(ctx), kube.Gateways, ns, name)
		if err != nil && !refused(err) {
			return "", c.hinted(ctx, err)
		}
		if sel := selectorOf(live); sel != "" {
			cfg.GatewaySelector, cfg.DetectGateway = sel, false // the Service the live Gateway selects
		}
	}
	selector := cfg.GatewaySelector
	if cfg.DetectGateway {
		selector = ingress.Selector()
	}
	f, err := ingress.Find(ctx, c.lister, selector)
	if err != nil {
		return "", err
	}
	var g ingress.Gateway
	if cfg.DetectGateway {
		g, err = ingress.Choose(f.Gateways, cfg.Ingress, f.Searched)
	} else {
		g, err = ingress.ForSelector(f.Gateways, cfg.GatewaySelector, f.Searched)
	}
	if err != nil {
		return "", err
	}
	return g.URL(cfg.GatewayPort)
}

// detect finds the ingress gateway and sets cfg.GatewaySelector to the one ingress.Choose picks,
// returning the gateways found. An ambiguous or empty result refuses the stage (*ingress.Error),
// except Rollback, the failure path, which must not fail: it keeps the live Gateway's selector
// with a warning. Credentials that may list Services nowhere (a Role in the release's namespace
// only) keep, for every stage, the live Gateway's selector, else the
// default, with a note: a Gateway that works is never rewritten to a guess, and such credentials
// get what they got before detection existed. live is the Gateway as observe read it (nil when
// absent): the fallback reads nothing more.
func (c *Client) detect(ctx context.Context, cfg *config.Config, live *unstructured.Unstructured, m *meshChecks, log Logger) ([]ingress.Gateway, error) {
	f, err := ingress.Find(ctx, c.lister, ingress.Selector())
	var unreadable *ingress.Error
	if sel := selectorOf(live); err == nil && cfg.AddOnIngress() == "" && ingress.Keep(sel, f.Gateways) {
		// mlcanary's live Gateway already selects a gateway that is there, or one someone chose
		// (ingress.Keep): it stays; --gateway-selector or --ingress changes it.
		cfg.GatewaySelector = sel
		if g, cerr := ingress.Choose(f.Gateways, cfg.Ingress, f.Searched); cerr == nil && g.Selector() != sel {
			m.notes = append(m.notes, fmt.Sprintf("the Gateway keeps selecting %s, as it does now; the ingress gateway found is Service %s: give --gateway-selector (or --ingress) to move it", sel, g))
		}
		return f.Gateways, nil
	}
	switch {
	case err == nil:
		g, cerr := ingress.Choose(f.Gateways, cfg.Ingress, f.Searched)
		if cerr == nil {
			cfg.GatewaySelector = g.Selector()
			log("ingress gateway: Service %s, found in %s", g, f.Searched)
			return f.Gateways, nil
		}
		if cfg.Stage.Kind != config.KindRollback {
			return nil, cerr
		}
		err = cerr
	case !errors.As(err, &unreadable) || f.Searched != "":
		return nil, err
	}
	what := "Istio's default"
	if sel := selectorOf(live); sel != "" {
		cfg.GatewaySelector, what = sel, "as the live Gateway does"
	}
	line := fmt.Sprintf("the ingress gateway was not detected, so the Gateway selects %s (%s): %s", cfg.GatewaySelector, what, err)
	if unreadable != nil { // the stage does what it did before detection existed: a note
		m.notes = append(m.notes, line)
	} else {
		m.warnings = append(m.warnings, line)
	}
	return f.Gateways, nil
}

// selectorOf is Gateway gw's spec.selector as key=value when it has exactly one label ("" otherwise,
// or for none).
func selectorOf(gw *unstructured.Unstructured) string {
	sel, _, _ := unstructured.NestedStringMap(liveOrEmpty(gw), "spec", "selector")
	for k, v := range sel {
		if len(sel) == 1 {
			return k + "=" + v
		}
	}
	return ""
}

func liveOrEmpty(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	return u.Object
}

// newPods reports whether ApplyDeployment step s creates or replaces pods: the version is not
// deployed, or its live Deployment is not what applying it with s's image would leave.
func newPods(live plan.Live, s plan.Step) bool {
	st := live.Versions[s.Version]
	return !st.Deployed || !st.Current || st.Image != s.Image
}
