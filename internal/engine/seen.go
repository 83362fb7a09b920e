package engine

import (
	"context"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// seenKey names an object of the stage's namespace.
type seenKey struct {
	gvr  schema.GroupVersionResource
	name string
}

// One read of each object per decision: a stage's steps use the objects as the run last read or
// wrote them (execution.seen) instead of reading them again — the reads it decided on, then what
// the API server answered to its own writes (nil after its delete). They are as fresh as a read
// made just before the step while no time passes: so the run forgets them all when it waits for a
// rollout or drains a version (forgetSeen), and reads again what it needs after. A write someone
// else makes in between is no different from one made between a read and the write after it: the
// VirtualService's write carries the resourceVersion it was decided from, so the API server answers
// 409 Conflict and the run reads it again (routes); the other objects are written by server-side
// apply of mlcanary's own fields only.

// seeDecided records the objects the stage decided on (observe) as seen.
func (e *execution) seeDecided() {
	e.seen = map[seenKey]*unstructured.Unstructured{}
	l := e.live
	for _, v := range config.Versions {
		e.see(kube.Deployments, e.cfg.Objects[v].Deployment, l.deployments[v])
		e.see(kube.Services, e.cfg.Objects[v].Service, l.services[v])
	}
	e.see(kube.VirtualServices, e.cfg.VirtualService, l.vs)
	if l.gatewayRead {
		e.see(kube.Gateways, e.cfg.Gateway, l.gateway)
	}
}

func (e *execution) see(gvr schema.GroupVersionResource, name string, obj *unstructured.Unstructured) {
	e.seen[seenKey{gvr, name}] = obj
}

// unsee forgets one object, so the next step reads it again.
func (e *execution) unsee(gvr schema.GroupVersionResource, name string) {
	delete(e.seen, seenKey{gvr, name})
}

// forgetSeen forgets every object: time passes (a wait, a drain), so each is read again.
func (e *execution) forgetSeen() { clear(e.seen) }

// get returns the object as last seen, else reads it (and sees it).
func (e *execution) get(ctx context.Context, gvr schema.GroupVersionResource, name string) (*unstructured.Unstructured, error) {
	if obj, ok := e.seen[seenKey{gvr, name}]; ok {
		return obj, nil
	}
	obj, err := e.c.cluster.Get(ctx, gvr, e.cfg.Namespace, name)
	if err == nil {
		e.see(gvr, name, obj)
	}
	return obj, err
}

// readUnseen reads the objects of keys not seen, each once, at the same time (concurrently).
func (e *execution) readUnseen(ctx context.Context, keys ...seenKey) error {
	var mu sync.Mutex
	reads := make([]func() error, len(keys))
	for i, k := range keys {
		if _, ok := e.seen[k]; ok || slices.Contains(keys[:i], k) {
			continue
		}
		reads[i] = func() error {
			obj, err := e.c.cluster.Get(ctx, k.gvr, e.cfg.Namespace, k.name)
			if err == nil {
				mu.Lock()
				e.see(k.gvr, k.name, obj)
				mu.Unlock()
			}
			return err
		}
	}
	return concurrently(reads...)
}

// readsOf is what steps read, up to the first that waits or may drain (after which everything is
// read again anyway): the Services and Gateway they apply, the VirtualService they route with and
// the Deployments and Services of the versions they route to (routable).
func (e *execution) readsOf(steps []plan.Step) []seenKey {
	var keys []seenKey
	for _, s := range steps {
		switch s.Action {
		case plan.WaitReady, plan.ApplyDeployment, plan.DeleteDeployment:
			return keys
		case plan.ApplyService, plan.DeleteService:
			keys = append(keys, seenKey{kube.Services, e.cfg.Objects[s.Version].Service})
		case plan.ApplyGateway:
			keys = append(keys, seenKey{kube.Gateways, e.cfg.Gateway})
		case plan.ApplyRoutes:
			keys = append(keys, seenKey{kube.VirtualServices, e.cfg.VirtualService})
			for _, v := range config.Versions {
				if s.Routing.References(v) {
					keys = append(keys, seenKey{kube.Deployments, e.cfg.Objects[v].Deployment}, seenKey{kube.Services, e.cfg.Objects[v].Service})
				}
			}
		}
	}
	return keys
}
