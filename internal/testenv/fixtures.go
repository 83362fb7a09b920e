package testenv

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// ingressFixtures are the ingress gateways of the Istio installations mlcanary knows (package
// ingress), shaped as each installs them: istio.yaml (open-source Istio, which New installs on
// every API server with Istio's CRDs, as on a real cluster), helm-gateway.yaml (Istio's gateway
// Helm chart) and aks-addon.yaml (AKS's Istio add-on).
//
//go:embed testdata/ingress/*.yaml
var ingressFixtures embed.FS

// IngressFixture creates the objects of testdata/ingress/NAME.yaml — namespaces when missing,
// Services with the load-balancer status the file gives (written through the status subresource,
// as a cloud controller would) — and returns a func that deletes the Services again (namespaces
// stay: deleting one takes long and nothing else lives in them).
func (e *Env) IngressFixture(ctx context.Context, name string) (remove func(context.Context) error, err error) {
	data, err := ingressFixtures.ReadFile("testdata/ingress/" + name + ".yaml")
	if err != nil {
		return nil, err
	}
	var created []*unstructured.Unstructured
	remove = func(ctx context.Context) error {
		for _, o := range created {
			if err := e.Dynamic.Resource(kube.Services).Namespace(o.GetNamespace()).Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting fixture Service %s/%s: %w", o.GetNamespace(), o.GetName(), err)
			}
		}
		return nil
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return remove, nil
		} else if err != nil {
			return nil, fmt.Errorf("reading fixture %s: %w", name, err)
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		switch u.GetKind() {
		case "Namespace":
			_, err = e.Dynamic.Resource(kube.Namespaces).Create(ctx, u, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				err = nil
			}
		case "Service":
			status, hasStatus := obj["status"]
			var out *unstructured.Unstructured
			if out, err = e.Dynamic.Resource(kube.Services).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{}); err == nil {
				created = append(created, out)
				if hasStatus {
					out.Object["status"] = status
					_, err = e.Dynamic.Resource(kube.Services).Namespace(u.GetNamespace()).UpdateStatus(ctx, out, metav1.UpdateOptions{})
				}
			}
		default:
			err = fmt.Errorf("kind %s is not a fixture kind", u.GetKind())
		}
		if err != nil {
			_ = remove(ctx)
			return nil, fmt.Errorf("creating fixture %s %s/%s: %w", name, u.GetNamespace(), u.GetName(), err)
		}
	}
}
