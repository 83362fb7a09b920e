package ingress

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// Lister lists the objects of one resource whose labels match a label selector, in namespace ns
// ("" = all namespaces); *kube.Client is one.
type Lister interface {
	ListSelected(ctx context.Context, gvr schema.GroupVersionResource, ns, selector string) ([]*unstructured.Unstructured, error)
}

var _ Lister = (*kube.Client)(nil)

// Found is what Find saw.
type Found struct {
	// Gateways are the ingress gateway Services found, in the API server's order.
	Gateways []Gateway
	// Searched says where they were looked for: "all namespaces", or the Namespaces it could list.
	Searched string
}

// Find lists the Services whose labels match selector — Selector() for every known ingress
// gateway, or a --gateway-selector the user gave: one request over all namespaces; when the
// credentials may not list Services cluster-wide, one request in each of Namespaces instead,
// skipping those they may not list either. Needs list on services (a ClusterRole, or a Role in
// each of Namespaces). None of them readable is an *Error saying which permission or input would
// do. A Service matching a given selector but no known label is found too (Gateway.Value is then
// the selector's value).
func Find(ctx context.Context, l Lister, selector string) (Found, error) {
	all, err := l.ListSelected(ctx, kube.Services, "", selector)
	if err == nil {
		return Found{Gateways: gateways(all, selector), Searched: "all namespaces"}, nil
	}
	if !kube.IsForbidden(err) {
		return Found{}, fmt.Errorf("looking for the Istio ingress gateway: %w", err)
	}
	var f Found
	var read []string
	for _, ns := range Namespaces {
		// Optional (kube.Optional): a refusal here is skipped, so it costs no request to explain it.
		list, err := l.ListSelected(kube.Optional(ctx), kube.Services, ns, selector)
		switch {
		case kube.IsForbidden(err):
			continue
		case err != nil:
			return Found{}, fmt.Errorf("looking for the Istio ingress gateway: %w", err)
		}
		read = append(read, ns)
		f.Gateways = append(f.Gateways, gateways(list, selector)...)
	}
	if len(read) == 0 {
		return Found{}, &Error{Msg: fmt.Sprintf("cannot look for the Istio ingress gateway: the credentials may list Services neither in all namespaces nor in %s; grant list on services there, or %s",
			strings.Join(Namespaces, ", "), setSelector)}
	}
	f.Searched = "namespaces " + strings.Join(read, ", ") + " (the credentials cannot list Services in all namespaces)"
	return f, nil
}

func gateways(list []*unstructured.Unstructured, selector string) []Gateway {
	var out []Gateway
	for _, svc := range list {
		if g, ok := Of(svc); ok || selector != Selector() {
			out = append(out, g)
		}
	}
	return out
}
