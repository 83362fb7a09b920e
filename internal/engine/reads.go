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

// readVersions reads each version's object of resource gvr (name gives its name), both at the same
// time, each by its name, and converts each answer with convert as soon as it arrives (nil answers
// too), while the other reads are still in flight: the first conversion of a Kubernetes type in a
// process builds its reflection caches (milliseconds for a Deployment), time otherwise spent after
// the last answer. Not one label-selected list: the API server serves a consistent list from
// its watch cache only once that cache has caught up with the latest write anywhere (about 100 ms
// after any write on a test API server, measured), while a read by name is answered at once, and
// costs nothing more for the unrelated objects of the namespace.
func readVersions[T any](ctx context.Context, c *Client, cfg *config.Config, gvr schema.GroupVersionResource, name func(config.Names) string, convert func(*unstructured.Unstructured) T) (map[config.Version]*unstructured.Unstructured, map[config.Version]T, error) {
	objs := make([]*unstructured.Unstructured, len(config.Versions))
	converted := make([]T, len(config.Versions))
	reads := make([]func() error, len(config.Versions))
	for i, v := range config.Versions {
		reads[i] = func() (err error) {
			if objs[i], err = c.cluster.Get(ctx, gvr, cfg.Namespace, name(cfg.Objects[v])); err == nil {
				converted[i] = convert(objs[i])
			}
			return err
		}
	}
	if err := concurrently(reads...); err != nil {
		return nil, nil, err
	}
	out, conv := map[config.Version]*unstructured.Unstructured{}, map[config.Version]T{}
	for i, v := range config.Versions {
		out[v], conv[v] = objs[i], converted[i]
	}
	return out, conv, nil
}

// readDeployments reads both versions' Deployments (readVersions), with the typed struct of each
// (typedDeployment) for observed.
func (c *Client) readDeployments(ctx context.Context, l *liveState) error {
	var err error
	l.deployments, l.typed, err = readVersions(ctx, c, l.cfg, kube.Deployments, func(o config.Names) string { return o.Deployment }, typedDeployment)
	return err
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
		func() error { return c.readDeployments(ctx, l) },
	)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// listWidest lists every object of gvr the credentials can: in all namespaces, else — when RBAC
// refuses that (refused), as a Role in the release's namespace does — in namespace ns only, which
// narrowed then reports. Either list is paged (kube.List: pages of 500 objects, a consistent read).
// err is the last list's error, unwrapped, so each caller keeps its own handling of a 404 (a kind
// not served) or a refusal of both. Both lists are optional reads (kube.Optional): a refusal costs
// no request to explain it, and a caller that fails with one passes it through c.hinted.
func (c *Client) listWidest(ctx context.Context, gvr schema.GroupVersionResource, ns string) (items []*unstructured.Unstructured, narrowed bool, err error) {
	ctx = kube.Optional(ctx)
	items, err = c.cluster.List(ctx, gvr, "")
	if refused(err) {
		items, err = c.cluster.List(ctx, gvr, ns)
		narrowed = true
	}
	return items, narrowed, err
}

// hinted is err from an optional read (kube.Optional) that the stage fails with after all, with
// what the API server's client adds to a refusal in a namespace (kube.Client.Hint: whether the
// namespace exists); offline there is nothing to add.
func (c *Client) hinted(ctx context.Context, err error) error {
	if c.hint == nil || err == nil {
		return err
	}
	return c.hint(ctx, err)
}
