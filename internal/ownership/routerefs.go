package ownership

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// IngressReferences lists, per version, every Reference to the version's Service in Kubernetes
// Ingresses (networking.k8s.io/v1): a rule path's backend or the defaultBackend naming the
// Service. An Ingress reaches only Services of its own namespace, so only those in c.Namespace
// count. Route reads "path /legacy" (the rule's host first when it has one: "model.example.com/legacy")
// or "defaultBackend".
func IngressReferences(c *config.Config, ings ...*unstructured.Unstructured) map[config.Version][]routing.Reference {
	out := map[config.Version][]routing.Reference{}
	for _, ing := range ings {
		if ing == nil || ing.GetNamespace() != c.Namespace {
			continue
		}
		ref := routing.Reference{Kind: "Ingress", Namespace: ing.GetNamespace(), VirtualService: ing.GetName(), Manager: Manager(ing)}
		add := func(backend map[string]any, route string) {
			name, _, _ := unstructured.NestedString(backend, "service", "name")
			if v, ok := serviceNamed(c, name); ok {
				r := ref
				r.Route = route
				if !slices.Contains(out[v], r) {
					out[v] = append(out[v], r)
				}
			}
		}
		if b, found, _ := unstructured.NestedMap(ing.Object, "spec", "defaultBackend"); found {
			add(b, "defaultBackend")
		}
		rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
		for i, x := range rules {
			rule, _ := x.(map[string]any)
			host, _, _ := unstructured.NestedString(rule, "host")
			paths, _, _ := unstructured.NestedSlice(rule, "http", "paths")
			for j, p := range paths {
				path, _ := p.(map[string]any)
				b, _, _ := unstructured.NestedMap(path, "backend")
				label := fmt.Sprintf("rules[%d].paths[%d]", i, j)
				if s, _, _ := unstructured.NestedString(path, "path"); s != "" {
					label = "path " + host + s
				}
				add(b, label)
			}
		}
	}
	return out
}

// GatewayRouteReferences lists, per version, every Reference to the version's Service in Gateway
// API routes (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute of gateway.networking.k8s.io): a rule's
// backendRefs and the requestMirror filters of the rule and of its backendRefs (a mirror). A
// backendRef names a Service when its group is "" and its kind Service (the defaults), in its
// namespace or, when empty, the route's. Route reads "rules[0]" or the rule's name.
func GatewayRouteReferences(c *config.Config, routes ...*unstructured.Unstructured) map[config.Version][]routing.Reference {
	out := map[config.Version][]routing.Reference{}
	for _, rt := range routes {
		if rt == nil {
			continue
		}
		manager := Manager(rt) // one walk of managedFields per object, not per rule
		rules, _, _ := unstructured.NestedSlice(rt.Object, "spec", "rules")
		for i, x := range rules {
			rule, _ := x.(map[string]any)
			ref := routing.Reference{Kind: rt.GetKind(), Namespace: rt.GetNamespace(), VirtualService: rt.GetName(), Route: routeLabel(rule, "rules", i), Manager: manager}
			add := func(backend map[string]any, mirror bool) {
				group, _, _ := unstructured.NestedString(backend, "group")
				kind, _, _ := unstructured.NestedString(backend, "kind")
				name, _, _ := unstructured.NestedString(backend, "name")
				ns, _, _ := unstructured.NestedString(backend, "namespace")
				if ns == "" {
					ns = rt.GetNamespace()
				}
				if group != "" || (kind != "" && kind != "Service") || ns != c.Namespace {
					return
				}
				if v, ok := serviceNamed(c, name); ok {
					r := ref
					r.Mirror = mirror
					if !slices.Contains(out[v], r) {
						out[v] = append(out[v], r)
					}
				}
			}
			mirrors := func(filters []any) {
				for _, f := range filters {
					if b, found, _ := unstructured.NestedMap(f.(map[string]any), "requestMirror", "backendRef"); found {
						add(b, true)
					}
				}
			}
			mirrors(sliceAt(rule, "filters"))
			for _, b := range sliceAt(rule, "backendRefs") {
				m, _ := b.(map[string]any)
				add(m, false)
				mirrors(sliceAt(m, "filters"))
			}
		}
	}
	return out
}

// serviceNamed maps a Kubernetes Service name in c.Namespace to the version it belongs to.
func serviceNamed(c *config.Config, name string) (config.Version, bool) {
	for _, v := range config.Versions {
		if name != "" && name == c.Objects[v].Service {
			return v, true
		}
	}
	return "", false
}
