package testenv

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// Ways a cluster refuses a stage, set up the way a cluster's owners would; kube-apiserver enforces
// each by itself (admission plugins ValidatingAdmissionPolicy, ResourceQuota, NamespaceLifecycle,
// and RBAC), so no webhook server or controller is needed beyond what the helpers play.

var (
	policies       = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}
	policyBindings = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"}
	resourceQuotas = schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}
)

// MemoryLimitPolicy is the message of RequireMemoryLimits's policy.
const MemoryLimitPolicy = "every container needs resources.limits.memory"

// RequireMemoryLimits installs ValidatingAdmissionPolicy "require-memory-limit-<ns>", bound to
// namespace ns only, that denies (reason Forbidden, HTTP 403) any Deployment whose containers do not
// all set resources.limits.memory — what Gatekeeper or Kyverno policies commonly require. It
// returns once the API server enforces it (policies are loaded asynchronously).
func (e *Env) RequireMemoryLimits(ctx context.Context, ns string) error {
	name := "require-memory-limit-" + ns
	policy := map[string]any{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"failurePolicy": "Fail",
			"matchConstraints": map[string]any{"resourceRules": []any{map[string]any{
				"apiGroups": []any{"apps"}, "apiVersions": []any{"v1"}, "operations": []any{"CREATE", "UPDATE"}, "resources": []any{"deployments"}}}},
			"validations": []any{map[string]any{
				"expression": "object.spec.template.spec.containers.all(c, has(c.resources) && has(c.resources.limits) && 'memory' in c.resources.limits)",
				"message":    MemoryLimitPolicy, "reason": "Forbidden"}},
		}}
	binding := map[string]any{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{"policyName": name, "validationActions": []any{"Deny"},
			"matchResources": map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": ns}}}}}
	for _, o := range []object{{policies, policy}, {policyBindings, binding}} {
		if _, err := e.Dynamic.Resource(o.gvr).Create(ctx, &unstructured.Unstructured{Object: o.obj}, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating %s %s: %w", o.gvr.Resource, name, err)
		}
	}
	return e.untilRefused(ctx, ns, "ValidatingAdmissionPolicy")
}

// ExhaustDeploymentQuota creates ResourceQuota ns/deployments allowing no Deployment
// (count/deployments.apps: 0) and writes its status as the quota controller would, which the
// admission plugin needs to enforce it. It returns once the API server enforces it.
func (e *Env) ExhaustDeploymentQuota(ctx context.Context, ns string) error {
	hard := map[string]any{"count/deployments.apps": "0"}
	rq := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ResourceQuota",
		"metadata": map[string]any{"name": "deployments", "namespace": ns}, "spec": map[string]any{"hard": hard}}}
	got, err := e.Dynamic.Resource(resourceQuotas).Namespace(ns).Create(ctx, rq, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating ResourceQuota %s/deployments: %w", ns, err)
	}
	got.Object["status"] = map[string]any{"hard": hard, "used": map[string]any{"count/deployments.apps": "0"}}
	if _, err := e.Dynamic.Resource(resourceQuotas).Namespace(ns).UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("writing ResourceQuota %s/deployments's status: %w", ns, err)
	}
	return e.untilRefused(ctx, ns, "exceeded quota")
}

// TerminateNamespace deletes namespace ns. The test API server runs no namespace controller, so
// the namespace's "kubernetes" finalizer keeps it Terminating: objects in it can still be read and
// updated, but nothing new can be created, as on a cluster while a namespace is being emptied.
func (e *Env) TerminateNamespace(ctx context.Context, ns string) error {
	if err := e.Dynamic.Resource(kube.Namespaces).Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("deleting namespace %s: %w", ns, err)
	}
	got, err := e.Dynamic.Resource(kube.Namespaces).Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if phase, _, _ := unstructured.NestedString(got.Object, "status", "phase"); phase != "Terminating" {
		return fmt.Errorf("namespace %s is %q after deletion, not Terminating", ns, phase)
	}
	return nil
}

// CreateBeingDeleted creates obj with a finalizer nobody removes and deletes it, so it stays with
// a deletionTimestamp, as an object does while its finalizers run.
func (e *Env) CreateBeingDeleted(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) error {
	obj = obj.DeepCopy()
	obj.SetFinalizers(append(obj.GetFinalizers(), "mlcanary.test/hold"))
	r := e.Dynamic.Resource(gvr).Namespace(obj.GetNamespace())
	if _, err := r.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating %s %s/%s: %w", gvr.Resource, obj.GetNamespace(), obj.GetName(), err)
	}
	return r.Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
}

// GrantRole creates Role ns/user with rules and binds it to user (as envtest users are named).
func (e *Env) GrantRole(ctx context.Context, ns, user string, rules []any) error {
	meta := map[string]any{"name": user, "namespace": ns}
	for _, o := range []object{
		{roles, map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules}},
		{roleBindings, map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": user},
			"subjects": []any{map[string]any{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}}}},
	} {
		if _, err := e.Dynamic.Resource(o.gvr).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: o.obj}, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating %s %s/%s: %w", o.gvr.Resource, ns, user, err)
		}
	}
	return nil
}

// Rule is one RBAC rule: verbs on resources of one API group.
func Rule(group string, resources, verbs []string) map[string]any {
	return map[string]any{"apiGroups": []any{group}, "resources": strs(resources), "verbs": strs(verbs)}
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// untilRefused waits until a server-side dry run of a Deployment in ns fails with want in its
// message: admission configuration reaches the plugins through informers, a moment after it is
// written.
func (e *Env) untilRefused(ctx context.Context, ns, want string) error {
	d := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "probe", "namespace": ns},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": "probe"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "probe"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "probe:1"}}}}}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := e.Dynamic.Resource(kube.Deployments).Namespace(ns).Create(ctx, d, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the API server did not start refusing Deployments in %s with %q (last: %w)", ns, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RulesWithout are a Role's rules granting the documented verbs (get, list, create, patch, delete)
// on every resource mlcanary writes and get, create, update, delete on Leases (the namespace's
// lock), minus verb on resource ("" for none).
func RulesWithout(resource, verb string) []any {
	var rules []any
	for _, r := range []struct{ group, resource string }{{"apps", "deployments"}, {"", "services"}, {"networking.istio.io", "gateways"}, {"networking.istio.io", "virtualservices"}} {
		var verbs []string
		for _, v := range []string{"get", "list", "create", "patch", "delete"} {
			if r.resource != resource || v != verb {
				verbs = append(verbs, v)
			}
		}
		rules = append(rules, Rule(r.group, []string{r.resource}, verbs))
	}
	var lease []string // the namespace's lock (package lock)
	for _, v := range []string{"get", "create", "update", "delete"} {
		if resource != "leases" || v != verb {
			lease = append(lease, v)
		}
	}
	return append(rules, Rule("coordination.k8s.io", []string{"leases"}, lease))
}

var (
	clusterRoles        = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	clusterRoleBindings = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
)

// ClusterWriter returns credentials for user "cluster-writer", who may do everything mlcanary does
// in every namespace but may not read Namespace objects, so a stage cannot tell beforehand that its
// namespace is missing and learns it from the API server's 404.
func (e *Env) ClusterWriter(ctx context.Context) (*rest.Config, error) {
	meta := map[string]any{"name": "mlcanary-cluster-writer"}
	for _, o := range []object{
		{clusterRoles, map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta, "rules": RulesWithout("", "")}},
		{clusterRoleBindings, map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta,
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "mlcanary-cluster-writer"},
			"subjects": []any{map[string]any{"kind": "User", "name": "cluster-writer", "apiGroup": "rbac.authorization.k8s.io"}}}},
	} {
		if _, err := e.Dynamic.Resource(o.gvr).Create(ctx, &unstructured.Unstructured{Object: o.obj}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating %s: %w", o.gvr.Resource, err)
		}
	}
	return e.UserConfig("cluster-writer")
}
