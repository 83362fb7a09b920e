package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// readOthers reads the other VirtualServices that may route to a version the stage would remove or
// replace (displaced): every one the credentials can list, in all namespaces, else — when RBAC
// refuses that, as a namespace-scoped Role does — the namespace's, with a note that other
// namespaces were not checked. The lists are paged (kube.List), so a namespace with thousands of
// VirtualServices costs a few bounded requests, and only stages that remove or replace pay them.
func (c *Client) readOthers(ctx context.Context, l *liveState, displaced []config.Version) error {
	cfg := l.cfg
	all, err := c.kube.List(ctx, kube.VirtualServices, "")
	if refused(err) {
		if all, err = c.kube.List(ctx, kube.VirtualServices, cfg.Namespace); err == nil {
			names := make([]string, len(displaced))
			for i, v := range displaced {
				names[i] = string(v)
			}
			l.othersNote = fmt.Sprintf("only VirtualServices in namespace %s were checked for routes to %s: the credentials cannot list VirtualServices in all namespaces (optional)",
				cfg.Namespace, strings.Join(names, " and "))
		}
	}
	if err != nil {
		return fmt.Errorf("checking which VirtualServices route to %s before changing it: %w", displaced[0], err)
	}
	l.others = l.others[:0]
	for _, vs := range all {
		if vs.GetNamespace() != cfg.Namespace || vs.GetName() != cfg.VirtualService { // l.vs is the one decided on
			l.others = append(l.others, vs)
		}
	}
	l.othersRead, l.decided = true, nil
	return nil
}

// refused reports whether the API server refused the credentials a read outside the namespace:
// RBAC, or a 403 another authorizer gave without RBAC's wording. Either way the read is optional.
func refused(err error) bool {
	return kube.IsForbidden(err) || kube.CauseOf(err) == kube.CauseForbidden
}
