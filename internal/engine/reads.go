package engine

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// concurrently runs the reads that do not depend on each other at the same time and returns the
// first error in the order the reads are given, not the first in time, so a run's message does not
// depend on which answer came back first (the VirtualService's read, given first, says when Istio
// is missing). A nil read is skipped.
func concurrently(reads ...func() error) error {
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		if read != nil {
			wg.Go(func() { errs[i] = read() })
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// managedSelector selects the objects mlcanary created (config.ManagedByLabel), whatever their
// other labels: one list finds both versions' objects when mlcanary created them.
var managedSelector = config.ManagedByLabel + "=" + config.ManagedBy

// readVersions reads each version's object of resource gvr (name gives its name): one
// label-selected list of the objects mlcanary created, then a read of each name the list did not
// hold (an object someone else created, or none), at the same time. The list holds only mlcanary's
// objects of the namespace (the API server filters), so unrelated objects cost nothing.
func (c *Client) readVersions(ctx context.Context, cfg *config.Config, gvr schema.GroupVersionResource, name func(config.Names) string) (map[config.Version]*unstructured.Unstructured, error) {
	listed, err := c.cluster.ListSelected(ctx, gvr, cfg.Namespace, managedSelector)
	if err != nil {
		return nil, err
	}
	out := map[config.Version]*unstructured.Unstructured{}
	var mu sync.Mutex
	reads := make([]func() error, len(config.Versions))
	for i, v := range config.Versions {
		n := name(cfg.Objects[v])
		if obj := byName(listed, n); obj != nil {
			out[v] = obj
			continue
		}
		reads[i] = func() error {
			obj, err := c.cluster.Get(ctx, gvr, cfg.Namespace, n)
			mu.Lock()
			out[v] = obj
			mu.Unlock()
			return err
		}
	}
	if err := concurrently(reads...); err != nil {
		return nil, err
	}
	return out, nil
}

func byName(objs []*unstructured.Unstructured, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetName() == name {
			return o
		}
	}
	return nil
}

// readRouting reads what status is derived from: both Deployments and the VirtualService, at the
// same time.
func (c *Client) readRouting(ctx context.Context, cfg *config.Config) (*liveState, error) {
	l := &liveState{cfg: cfg}
	err := concurrently(
		func() (err error) {
			l.vs, err = c.cluster.Get(ctx, kube.VirtualServices, cfg.Namespace, cfg.VirtualService)
			return err
		},
		func() (err error) {
			l.deployments, err = c.readVersions(ctx, cfg, kube.Deployments, func(o config.Names) string { return o.Deployment })
			return err
		},
	)
	if err != nil {
		return nil, err
	}
	return l, nil
}
