package testenv

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
)

var (
	serviceAccounts = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	roles           = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	roleBindings    = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
)

type object struct {
	gvr schema.GroupVersionResource
	obj map[string]any
}

// CreateNamespace creates namespace name, as a user does before the first stage: labelled
// istio-injection=enabled for the sidecars of open-source Istio (which New installs).
func (e *Env) CreateNamespace(ctx context.Context, name string) error {
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": name, "labels": map[string]any{"istio-injection": "enabled"}}}}
	if _, err := e.Dynamic.Resource(kube.Namespaces).Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// ServiceAccountToken creates ServiceAccount ns/name — with admin, bound to a Role allowing
// everything in ns only — and returns a real token for it from the TokenRequest API, the way an
// Azure DevOps ServiceAccount connection holds one.
func (e *Env) ServiceAccountToken(ctx context.Context, ns, name string, admin bool) (string, error) {
	meta := map[string]any{"name": name, "namespace": ns}
	objs := []object{{serviceAccounts, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}}}
	if admin {
		// A Role of its own: the built-in admin/edit roles are aggregated by kube-controller-manager,
		// which the test API server does not run.
		objs = append(objs,
			object{roles, map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
				"rules": []any{map[string]any{"apiGroups": []any{"*"}, "resources": []any{"*"}, "verbs": []any{"*"}}}}},
			object{roleBindings, map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
				"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
				"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": name, "namespace": ns}}}})
	}
	for _, o := range objs {
		if _, err := e.Dynamic.Resource(o.gvr).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: o.obj}, metav1.CreateOptions{}); err != nil {
			return "", fmt.Errorf("creating %s %s/%s: %w", o.gvr.Resource, ns, name, err)
		}
	}
	tr := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
		"metadata": meta, "spec": map[string]any{"expirationSeconds": int64(3600)}}}
	got, err := e.Dynamic.Resource(serviceAccounts).Namespace(ns).Create(ctx, tr, metav1.CreateOptions{}, "token")
	if err != nil {
		return "", fmt.Errorf("requesting a token for %s/%s: %w", ns, name, err)
	}
	token, _, _ := unstructured.NestedString(got.Object, "status", "token")
	if token == "" {
		return "", fmt.Errorf("TokenRequest for %s/%s returned no token", ns, name)
	}
	return token, nil
}
