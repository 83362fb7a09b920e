package ownership

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// BindingOf decides the VirtualService's routing.Binding. live is the VirtualService on the cluster (nil
// when mlcanary is about to create it: then it is a root bound to the gateway input).
func BindingOf(c *config.Config, live *unstructured.Unstructured) routing.Binding {
	ours := routing.GatewayBinding(c)
	if live == nil {
		return ours
	}
	hosts, _, _ := unstructured.NestedStringSlice(live.Object, "spec", "hosts")
	if len(hosts) == 0 {
		return routing.Binding{Delegate: true}
	}
	gateways, _, _ := unstructured.NestedStringSlice(live.Object, "spec", "gateways")
	if len(gateways) == 0 {
		return routing.Binding{Elsewhere: []string{"mesh"}}
	}
	want := ResolveGateway(c.Gateway, c.Namespace)
	wrote := strings.Split(live.GetAnnotations()[routing.OwnedGatewaysAnnotation], ",")
	for _, g := range gateways {
		if ResolveGateway(g, live.GetNamespace()) == want || slices.Contains(wrote, g) {
			return ours // bound to it already, or mlcanary bound it and the input changed since
		}
	}
	return routing.Binding{Elsewhere: gateways}
}

// ResolveGateway spells a VirtualService's gateway reference as namespace/name the way Istio
// resolves it for a VirtualService in namespace from (pilot/pkg/model resolveGatewayName): a bare
// name is in from; "./name" too; the legacy "name.namespace[.svc…]" form names namespace; "mesh"
// stays "mesh".
func ResolveGateway(ref, from string) string {
	if ref == "mesh" {
		return ref
	}
	if ns, name, ok := strings.Cut(ref, "/"); ok {
		if ns == "." {
			ns = from
		}
		return ns + "/" + name
	}
	name, rest, dotted := strings.Cut(ref, ".")
	if !dotted {
		return from + "/" + ref
	}
	ns, _, _ := strings.Cut(rest, ".")
	return ns + "/" + name
}

// Bind makes desired, a VirtualService rendered for the gateway input, keep exactly the live hosts
// and gateways when b keeps the live binding (a delegate, or one bound elsewhere): they are sent
// back unchanged, because server-side apply drops a field its manager stops sending, and nothing
// is added; an empty list is left out, as a delegate has none. With b.Gateway set it changes
// nothing. It is idempotent, so it runs again after MergeVirtualService.
func Bind(b routing.Binding, desired, live *unstructured.Unstructured) {
	if b.Gateway != "" || live == nil {
		return
	}
	for _, f := range []string{"hosts", "gateways"} {
		l, _, _ := unstructured.NestedStringSlice(live.Object, "spec", f)
		if len(l) == 0 {
			unstructured.RemoveNestedField(desired.Object, "spec", f)
		} else {
			_ = unstructured.SetNestedStringSlice(desired.Object, l, "spec", f)
		}
	}
	ann := desired.GetAnnotations()
	delete(ann, routing.OwnedHostsAnnotation)
	delete(ann, routing.OwnedGatewaysAnnotation)
	desired.SetAnnotations(ann)
}

// keepForeignGateways is keepForeignStrings for the gateways of a VirtualService, comparing them
// as Istio resolves them (ResolveGateway): a live entry naming the same Gateway as one of
// desired's in another spelling ("public-gateway.ns" for "ns/public-gateway") replaces it, so the
// binding keeps its owner's spelling and no second binding to the same Gateway is added (Istio
// would bind twice, and the write would change a field for nothing).
func keepForeignGateways(desired, live *unstructured.Unstructured, wasOurs []string) {
	ours, _, _ := unstructured.NestedStringSlice(desired.Object, "spec", "gateways")
	theirs, _, _ := unstructured.NestedStringSlice(live.Object, "spec", "gateways")
	for _, g := range theirs {
		same := slices.IndexFunc(ours, func(o string) bool {
			return ResolveGateway(o, desired.GetNamespace()) == ResolveGateway(g, live.GetNamespace())
		})
		switch {
		case same >= 0:
			ours[same] = g
		case !slices.Contains(wasOurs, g):
			ours = append(ours, g)
		}
	}
	_ = unstructured.SetNestedStringSlice(desired.Object, ours, "spec", "gateways")
}
