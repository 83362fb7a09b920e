// Package memory is a cluster held in memory, with the reads and writes engine.Cluster names: it
// stores the objects it is given and applied, and records every write exactly as it was sent. The
// shipped `plan --offline` runs the real executor against it (engine.Offline), so what that plan
// prints is what a stage sends; tests use it to decide without an API server. It is not a test
// double of the API server's rules: use the real one (internal/testenv) to prove field ownership,
// conflicts, RBAC and admission.
//
// What it does and does not do:
//   - Apply stores the body it was sent (decoded from its JSON, so numbers read as the API server
//     reads them) in place of the object: server-side apply by the only field manager there is. It
//     does not merge fields other managers own, apply defaults, or validate.
//   - It assigns no resourceVersion, uid or generation: an object read from it carries none, so
//     the executor's writes carry no resourceVersion either (the one field of an apply body that is
//     the live object's lock token, which no offline plan can know).
//   - It plays the Deployment controller at once: a Deployment applied is stored rolled out (every
//     wanted replica updated and available), unless DeploymentStatus says otherwise. So WaitRollout
//     never sleeps: nothing changes a stored Deployment while it waits, and it answers from what is
//     stored — done, the controller's failure, or at once the timeout it would reach.
package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// Write is one write as the client sent it.
type Write struct {
	// Verb is "apply" or "delete".
	Verb     string
	Resource schema.GroupVersionResource
	// Namespace and Name identify the object ("" namespace for a cluster-scoped one).
	Namespace, Name string
	// Body is, for an apply, the request body byte for byte as kube.Client.Apply sends it (the
	// object's JSON); nil for a delete.
	Body []byte
	// Stored is, for an apply, the object the cluster answered it stored (or, with DryRun, would
	// store) as JSON: the live object merged with Body. nil for a delete.
	Stored []byte
	DryRun bool
}

// Cluster is a cluster in memory; the zero value is not usable (New). It is safe for concurrent use.
type Cluster struct {
	// DeploymentStatus, when set, writes the status of each Deployment applied in place of the
	// Deployment controller (the default: rolled out at once, RolledOut).
	DeploymentStatus func(d *unstructured.Unstructured)

	mu      sync.Mutex
	objects map[key]*unstructured.Unstructured
	writes  []Write
}

type key struct {
	group, resource, ns, name string
}

func keyOf(gvr schema.GroupVersionResource, ns, name string) key {
	return key{gvr.Group, gvr.Resource, ns, name}
}

// New returns an empty cluster.
func New() *Cluster {
	return &Cluster{objects: map[key]*unstructured.Unstructured{}}
}

// Add stores obj as resource gvr as it is (a seed: not recorded as a write).
func (c *Cluster) Add(gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.objects[keyOf(gvr, obj.GetNamespace(), obj.GetName())] = obj.DeepCopy()
}

// AddNamespace stores the Namespace name.
func (c *Cluster) AddNamespace(name string) {
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace"}}
	ns.SetName(name)
	c.Add(kube.Namespaces, ns)
}

// Writes returns the writes sent since New or the last Forget, in order.
func (c *Cluster) Writes() []Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Write(nil), c.writes...)
}

// Forget drops the record of writes (the objects stay).
func (c *Cluster) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = nil
}

// Get returns a copy of the object, or nil when it does not exist.
func (c *Cluster) Get(_ context.Context, gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if obj := c.objects[keyOf(gvr, ns, name)]; obj != nil {
		return obj.DeepCopy(), nil
	}
	return nil, nil
}

// List returns copies of every object of gvr in ns ("" for all namespaces), by namespace and name.
func (c *Cluster) List(_ context.Context, gvr schema.GroupVersionResource, ns string) ([]*unstructured.Unstructured, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*unstructured.Unstructured
	for k, obj := range c.objects {
		if k.group == gvr.Group && k.resource == gvr.Resource && (ns == "" || k.ns == ns) {
			out = append(out, obj.DeepCopy())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.GetNamespace() < b.GetNamespace() || a.GetNamespace() == b.GetNamespace() && a.GetName() < b.GetName()
	})
	return out, nil
}

// ListSelected is List of the objects whose labels match selector (a label selector).
func (c *Cluster) ListSelected(ctx context.Context, gvr schema.GroupVersionResource, ns, selector string) ([]*unstructured.Unstructured, error) {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("label selector %q: %w", selector, err)
	}
	all, _ := c.List(ctx, gvr, ns)
	var out []*unstructured.Unstructured
	for _, obj := range all {
		if sel.Matches(labels.Set(obj.GetLabels())) {
			out = append(out, obj)
		}
	}
	return out, nil
}

// Apply records obj's JSON as the body sent and stores the body in place of the object (not with
// dryRun), returning what is, or would be, stored.
func (c *Cluster) Apply(_ context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	body, err := obj.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	stored := &unstructured.Unstructured{}
	if err := stored.UnmarshalJSON(body); err != nil {
		return nil, fmt.Errorf("decoding %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	if gvr == kube.Deployments {
		status := c.DeploymentStatus
		if status == nil {
			status = RolledOut
		}
		status(stored)
	}
	answer, err := stored.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, Write{Verb: "apply", Resource: gvr, Namespace: obj.GetNamespace(), Name: obj.GetName(), Body: body, Stored: answer, DryRun: dryRun})
	if !dryRun {
		c.objects[keyOf(gvr, obj.GetNamespace(), obj.GetName())] = stored.DeepCopy()
	}
	return stored, nil
}

// Delete records the delete and removes the object (not with dryRun).
func (c *Cluster) Delete(_ context.Context, gvr schema.GroupVersionResource, ns, name string, dryRun bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, Write{Verb: "delete", Resource: gvr, Namespace: ns, Name: name, DryRun: dryRun})
	if !dryRun {
		delete(c.objects, keyOf(gvr, ns, name))
	}
	return nil
}

// WaitRollout answers at once from the stored Deployment, which nothing changes while it waits:
// nil when it is rolled out, *kube.RolloutFailed when its status says the controller gave up, else
// *kube.RolloutTimeout (the timeout a real wait would reach).
func (c *Cluster) WaitRollout(ctx context.Context, ns, name string, o kube.WaitOptions) error {
	d, _ := c.Get(ctx, kube.Deployments, ns, name)
	switch r := kube.RolloutOf(d); {
	case r.Done:
		return nil
	case r.Failed:
		return &kube.RolloutFailed{Namespace: ns, Name: name, Reason: r.Reason}
	default:
		return &kube.RolloutTimeout{Namespace: ns, Name: name, Timeout: o.Timeout, Reason: r.Reason}
	}
}

// PodProblems knows no pods.
func (c *Cluster) PodProblems(context.Context, *unstructured.Unstructured) []string { return nil }

// RolledOut writes the status the Deployment controller reports for d once its rollout is done:
// the latest generation observed, every wanted replica (spec.replicas, default 1) updated, ready
// and available.
func RolledOut(d *unstructured.Unstructured) {
	n, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	if !found {
		n = 1
	}
	d.Object["status"] = map[string]any{
		"observedGeneration": d.GetGeneration(),
		"replicas":           n, "updatedReplicas": n, "readyReplicas": n, "availableReplicas": n,
	}
}
