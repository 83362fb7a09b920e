package engine

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// readOthers reads the other VirtualServices that may route to a version the stage would remove or
// replace (displaced): every one the credentials can list, in all namespaces, else — when RBAC
// refuses that, as a namespace-scoped Role does — the namespace's, with a note that other
// namespaces were not checked. The lists are paged (kube.List), so a namespace with thousands of
// VirtualServices costs a few bounded requests, and only stages that remove or replace pay them.
// They go out at the same time as the lists of the other route kinds (readRoutes).
func (c *Client) readOthers(ctx context.Context, l *liveState, displaced []config.Version) error {
	cfg := l.cfg
	var all []*unstructured.Unstructured
	var note string
	err := concurrently(func() error {
		var narrowed bool
		var err error
		if all, narrowed, err = c.listWidest(ctx, kube.VirtualServices, cfg.Namespace); err != nil {
			return fmt.Errorf("checking which VirtualServices route to %s before changing it: %w", displaced[0], c.hinted(ctx, err))
		}
		if narrowed {
			names := make([]string, len(displaced))
			for i, v := range displaced {
				names[i] = string(v)
			}
			note = fmt.Sprintf("only VirtualServices in namespace %s were checked for routes to %s: the credentials cannot list VirtualServices in all namespaces (optional)",
				cfg.Namespace, strings.Join(names, " and "))
		}
		return nil
	}, func() error {
		if err := c.readRoutes(ctx, l); err != nil {
			return fmt.Errorf("checking which routes send traffic to %s before changing it: %w", displaced[0], err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	l.othersNote = note
	l.others = l.others[:0]
	for _, vs := range all {
		if vs.GetNamespace() != cfg.Namespace || vs.GetName() != cfg.VirtualService { // l.vs is the one decided on
			l.others = append(l.others, vs)
		}
	}
	l.othersRead, l.decided = true, nil
	return nil
}

var (
	ingresses = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	// gatewayRoutes are the Gateway API route kinds whose backendRefs can name a Service, at the
	// version each is served in by the standard and experimental channels.
	gatewayRoutes = []schema.GroupVersionResource{
		{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "grpcroutes"},
		{Group: "gateway.networking.k8s.io", Version: "v1alpha2", Resource: "tcproutes"},
		{Group: "gateway.networking.k8s.io", Version: "v1alpha2", Resource: "tlsroutes"},
	}
)

// readRoutes reads the routes outside Istio's VirtualServices that may send traffic to a version
// (l.routeRefs): the namespace's Ingresses (an Ingress reaches only its own namespace's Services),
// and the Gateway API routes of every namespace the credentials can list (else the namespace's),
// every kind at the same time. A kind the API server does not serve (404: the Gateway API CRDs are
// not installed) is skipped; one the credentials may not list (403) is skipped with a note, as the
// reads are optional.
func (c *Client) readRoutes(ctx context.Context, l *liveState) error {
	ns := l.cfg.Namespace
	type listed struct {
		items []*unstructured.Unstructured
		// narrowed: only the namespace's could be listed; refused: none could.
		narrowed, refused bool
	}
	list := func(gvr schema.GroupVersionResource, out *listed) error {
		var err error
		if gvr == ingresses { // an Ingress reaches only its own namespace's Services
			out.items, err = c.cluster.List(kube.Optional(ctx), gvr, ns)
		} else {
			out.items, out.narrowed, err = c.listWidest(ctx, gvr, ns)
		}
		switch {
		case err == nil:
			return nil
		case kube.CauseOf(err) == kube.CauseNotFound:
			out.narrowed = false
			return nil
		case refused(err):
			out.refused, out.narrowed = true, false
			return nil
		}
		return c.hinted(ctx, err)
	}
	kinds := append([]schema.GroupVersionResource{ingresses}, gatewayRoutes...)
	results := make([]listed, len(kinds))
	reads := make([]func() error, len(kinds))
	for i, gvr := range kinds {
		reads[i] = func() error { return list(gvr, &results[i]) }
	}
	if err := concurrently(reads...); err != nil {
		return err
	}
	l.routeRefs, l.routeNotes = map[config.Version][]routing.Reference{}, nil
	add := func(refs map[config.Version][]routing.Reference) {
		for v, r := range refs {
			l.routeRefs[v] = append(l.routeRefs[v], r...)
		}
	}
	var refusedKinds []string
	for i, gvr := range kinds {
		r := results[i]
		if r.narrowed {
			l.routeNotes = append(l.routeNotes, fmt.Sprintf("only %s in namespace %s were checked for routes: the credentials cannot list them in all namespaces (optional)", gvr.Resource, ns))
		}
		switch {
		case gvr == ingresses && r.refused:
			l.routeNotes = append(l.routeNotes, fmt.Sprintf("ingresses.networking.k8s.io in namespace %s were not checked for routes: the credentials cannot list them (optional)", ns))
		case gvr == ingresses:
			add(ownership.IngressReferences(l.cfg, r.items...))
		case r.refused:
			refusedKinds = append(refusedKinds, gvr.Resource)
		default:
			add(ownership.GatewayRouteReferences(l.cfg, r.items...))
		}
	}
	// RBAC refuses before the API server says whether it serves a kind, so one note covers them.
	if len(refusedKinds) > 0 {
		l.routeNotes = append(l.routeNotes, fmt.Sprintf("Gateway API routes (%s of gateway.networking.k8s.io) in namespace %s were not checked: the credentials cannot list them (optional; nothing to check where the Gateway API is not installed)",
			strings.Join(refusedKinds, ", "), ns))
	}
	return nil
}

// refused reports whether the API server refused the credentials a read outside the namespace:
// RBAC, or a 403 another authorizer gave without RBAC's wording. Either way the read is optional.
func refused(err error) bool {
	return kube.IsForbidden(err) || kube.CauseOf(err) == kube.CauseForbidden
}
