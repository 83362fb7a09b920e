package engine

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube/memory"
)

// recorder is a Cluster that passes every call to the cluster it wraps and records the body of
// every apply, as memory.Cluster does: a plan against a cluster reports through it the objects its
// server-side dry runs sent (summary.Result.Manifests), the same bodies a stage would send.
type recorder struct {
	Cluster
	mu     sync.Mutex
	writes []memory.Write
}

func (r *recorder) Apply(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	body, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	out, err := r.Cluster.Apply(ctx, gvr, obj, dryRun)
	if err == nil {
		r.mu.Lock()
		r.writes = append(r.writes, memory.Write{Verb: "apply", Resource: gvr, Namespace: obj.GetNamespace(), Name: obj.GetName(), Body: body, DryRun: dryRun})
		r.mu.Unlock()
	}
	return out, err
}
