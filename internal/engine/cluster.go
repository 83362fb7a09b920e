package engine

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// Cluster is every read and write a stage makes: what observe reads before it decides and what
// the executor sends while it carries the plan out. It is declared here, where it is used, and kept
// to what is really called (the model is helm's pkg/kube.Interface, which `helm template` satisfies
// with a client that only records). Two implementations:
//
//   - *kube.Client, the API server through the dynamic client (NewClient);
//   - *memory.Cluster (internal/kube/memory), objects held in memory that records every apply body:
//     plan --offline runs the executor against it (Offline), and fast tests decide against it.
//
// Get returns nil, nil for an object that does not exist (on the API server, a Get of the
// VirtualService also fails when Istio is not installed: kube.Client.Get); List lists every namespace when ns is "";
// Apply is a server-side apply as kube.FieldManager and returns what is (or, with dryRun, would be)
// stored; Delete of an object already gone is not an error. Errors are one sentence (kube.APIError).
type Cluster interface {
	Get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error)
	List(ctx context.Context, gvr schema.GroupVersionResource, ns string) ([]*unstructured.Unstructured, error)
	Apply(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error)
	Delete(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, dryRun bool) error
	// WaitRollout returns once Deployment ns/name is rolled out (kube.RolloutOf; routable, with
	// o.Routable), failing with *kube.RolloutFailed or *kube.RolloutTimeout.
	WaitRollout(ctx context.Context, ns, name string, o kube.WaitOptions) error
	// PodProblems says why d's pods do not run, one line each (none when unknown).
	PodProblems(ctx context.Context, d *unstructured.Unstructured) []string
}

var _ Cluster = (*kube.Client)(nil)
