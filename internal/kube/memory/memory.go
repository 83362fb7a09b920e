// Package memory is a cluster held in memory, with the reads and writes engine.Cluster names: it
// stores the objects it is given and applied, and records every write exactly as it was sent. The
// shipped `plan --offline` runs the real executor against it (engine.Offline), so what that plan
// prints is what a stage sends; tests use it to decide without an API server. It behaves like the
// API server for what the engine relies on (internal/engine/memory_differential_test.go runs the
// same operations against both and compares the objects); it is no stand-in for the API server's
// other rules: use the real one (internal/testenv) to prove conflicts between managers, RBAC,
// admission, defaulting and validation.
//
// What it does:
//   - Apply is a server-side apply by the one field manager that applies (mlcanary's), with force:
//     the body is merged into the live object (merge: maps key by key; the associative lists of
//     Deployments and Services — containers, env, volumes by name, container ports by
//     containerPort and protocol, Service ports by port and protocol — item by item; every other
//     list, and every list of Istio's kinds, atomic), and a field the previous apply set that this
//     one no longer sends is removed; fields only others set (a seed's) are kept. It does not track
//     fields two managers share: a field the applier stops sending is removed even if another
//     manager set it too.
//   - status is a subresource: the status of an apply body is ignored.
//   - Every write that changes an object gives it the next resourceVersion (one counter for the
//     cluster, as etcd's revision); metadata.generation is 1 on create and grows by one when
//     the spec changes (Deployments and Istio's kinds; a Service has none, as on the API server).
//   - An apply whose body carries a metadata.resourceVersion other than the stored one is a 409
//     Conflict, as is one carrying a resourceVersion for an object that does not exist (the API
//     server's precondition check); a dry run answers the merged object and stores nothing (a
//     dry-run create has no resourceVersion, as on the API server).
//   - It plays the Deployment controller at once: a Deployment applied is stored rolled out (every
//     wanted replica updated and available), unless DeploymentStatus says otherwise. So WaitRollout
//     never sleeps: nothing changes a stored Deployment while it waits, and it answers from what is
//     stored — done, the controller's failure, or at once the timeout it would reach.
package memory

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	// applied is, per object, the body its last apply sent (what the applier owns).
	applied map[key]map[string]any
	// others is, per object, what other managers set (its seeds, less what an apply took over).
	others map[key]map[string]any
	rv     int64
	writes []Write
}

type key struct {
	group, resource, ns, name string
}

func keyOf(gvr schema.GroupVersionResource, ns, name string) key {
	return key{gvr.Group, gvr.Resource, ns, name}
}

// New returns an empty cluster.
func New() *Cluster {
	return &Cluster{objects: map[key]*unstructured.Unstructured{}, applied: map[key]map[string]any{}, others: map[key]map[string]any{}}
}

// Add stores obj as resource gvr, as another manager created or replaced it (a seed: not recorded
// as a write), with the next resourceVersion and, when it has none, generation 1 (none for a
// Service).
func (c *Cluster) Add(gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := obj.DeepCopy()
	c.rv++
	o.SetResourceVersion(strconv.FormatInt(c.rv, 10))
	if o.GetGeneration() == 0 && hasGeneration(gvr) {
		o.SetGeneration(1)
	}
	k := keyOf(gvr, obj.GetNamespace(), obj.GetName())
	c.objects[k] = o
	seed := o.DeepCopy().Object
	delete(seed, "status")
	c.others[k] = seed
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

// Apply records obj's JSON as the body sent and merges it into the stored object as a forced
// server-side apply (package doc; merge), storing the result (not with dryRun) and returning what
// is, or would be, stored. A stale resourceVersion in obj is a 409 Conflict (*kube.APIError).
func (c *Cluster) Apply(_ context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	object := kube.Kind(gvr) + " " + obj.GetNamespace() + "/" + obj.GetName()
	body, err := obj.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", object, err)
	}
	sent := &unstructured.Unstructured{}
	if err := sent.UnmarshalJSON(body); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", object, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := keyOf(gvr, obj.GetNamespace(), obj.GetName())
	live := c.objects[k]
	if want := sent.GetResourceVersion(); want != "" && (live == nil || live.GetResourceVersion() != want) {
		return nil, kube.Explain(apierrors.NewConflict(gvr.GroupResource(), obj.GetName(),
			fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again")),
			kube.Request{Doing: "applying " + object, Namespace: obj.GetNamespace()})
	}
	applied := sent.DeepCopy().Object
	delete(applied, "status")
	unstructured.RemoveNestedField(applied, "metadata", "resourceVersion")
	var base map[string]any
	if live != nil {
		base = live.Object
	}
	others, _ := deepCopy(c.others[k]).(map[string]any)
	stored := &unstructured.Unstructured{Object: merge(gvr, base, applied, c.applied[k], others)}
	if live != nil {
		stored.Object["status"] = deepCopy(live.Object["status"])
		if stored.Object["status"] == nil {
			delete(stored.Object, "status")
		}
	}
	c.version(gvr, live, stored, dryRun)
	if gvr == kube.Deployments && live == nil || gvr == kube.Deployments && !equalSpec(live, stored) {
		status := c.DeploymentStatus
		if status == nil {
			status = RolledOut
		}
		status(stored)
	}
	answer, err := stored.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", object, err)
	}
	c.writes = append(c.writes, Write{Verb: "apply", Resource: gvr, Namespace: obj.GetNamespace(), Name: obj.GetName(), Body: body, Stored: answer, DryRun: dryRun})
	if !dryRun {
		c.objects[k] = stored.DeepCopy()
		c.applied[k] = applied
		if others != nil {
			c.others[k] = others
		}
	}
	return stored, nil
}

// version sets stored's resourceVersion and generation from live's: a create gets generation 1
// (kinds that have one) and, unless dryRun, the next resourceVersion; a change gets the next
// resourceVersion, and the next generation when the spec changed; no change keeps both.
func (c *Cluster) version(gvr schema.GroupVersionResource, live, stored *unstructured.Unstructured, dryRun bool) {
	if live == nil {
		if hasGeneration(gvr) {
			stored.SetGeneration(1)
		}
		stored.SetResourceVersion("")
		if !dryRun {
			c.rv++
			stored.SetResourceVersion(strconv.FormatInt(c.rv, 10))
		}
		return
	}
	stored.SetResourceVersion(live.GetResourceVersion())
	stored.SetGeneration(live.GetGeneration())
	if equality(live, stored) {
		return
	}
	if hasGeneration(gvr) && !equalSpec(live, stored) {
		stored.SetGeneration(live.GetGeneration() + 1)
	}
	if !dryRun {
		c.rv++
		stored.SetResourceVersion(strconv.FormatInt(c.rv, 10))
	}
}

// hasGeneration: the API server keeps metadata.generation for Deployments and custom resources;
// a Service's stays unset.
func hasGeneration(gvr schema.GroupVersionResource) bool {
	return gvr != kube.Services && gvr != kube.Namespaces
}

func equalSpec(a, b *unstructured.Unstructured) bool {
	return a != nil && b != nil && reflect.DeepEqual(a.Object["spec"], b.Object["spec"])
}

func equality(a, b *unstructured.Unstructured) bool {
	x, y := a.DeepCopy().Object, b.DeepCopy().Object
	for _, o := range []map[string]any{x, y} {
		unstructured.RemoveNestedField(o, "metadata", "resourceVersion")
		unstructured.RemoveNestedField(o, "metadata", "generation")
	}
	return reflect.DeepEqual(x, y)
}

// Delete records the delete and removes the object (not with dryRun).
func (c *Cluster) Delete(_ context.Context, gvr schema.GroupVersionResource, ns, name string, dryRun bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, Write{Verb: "delete", Resource: gvr, Namespace: ns, Name: name, DryRun: dryRun})
	if !dryRun {
		delete(c.objects, keyOf(gvr, ns, name))
		delete(c.applied, keyOf(gvr, ns, name))
		delete(c.others, keyOf(gvr, ns, name))
	}
	return nil
}

// WaitRollout answers at once from the stored Deployment, which nothing changes while it waits:
// nil when it is rolled out (or routable, when o.Routable asks for that), *kube.RolloutFailed when its status says the controller gave up, else
// *kube.RolloutTimeout (the timeout a real wait would reach).
func (c *Cluster) WaitRollout(ctx context.Context, ns, name string, o kube.WaitOptions) error {
	d, _ := c.Get(ctx, kube.Deployments, ns, name)
	switch r := kube.RolloutOf(d); {
	case r.Done || o.Routable && r.Routable:
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
