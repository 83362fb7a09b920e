package engine

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube/memory"
)

// recorder is a Cluster that passes every call to the cluster it wraps and records the body of
// every apply and what the server answered, as memory.Cluster does: a plan against a cluster
// reports through it the objects its server-side dry runs say would be stored
// (summary.Result.Manifests): the live object merged with the body a stage would send.
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
	if err != nil {
		return out, err
	}
	stored, err := out.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding the %s %s/%s the server answered: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	r.mu.Lock()
	r.writes = append(r.writes, memory.Write{Verb: "apply", Resource: gvr, Namespace: obj.GetNamespace(), Name: obj.GetName(), Body: body, Stored: stored, DryRun: dryRun})
	r.mu.Unlock()
	return out, nil
}
