package kube

import (
	"context"

	"k8s.io/client-go/dynamic"
)

// Dynamic is c's dynamic client (a 429 fails at once, saying the server's Retry-After), for a
// package that reads and writes a kind of its own (package lock's Lease); its errors go through
// c.Explain.
func (c *Client) Dynamic() dynamic.Interface { return c.dyn }

// Explain is a failed request in one sentence, as c's own requests are explained (Explain, plus
// what is known of a namespace an RBAC refusal names): doing says what was being done ("creating
// Lease abtesting/mlcanary"), ns the namespace it was in, and write the object a write changes
// ("" for a read), so a lost answer says the write may have been applied.
func (c *Client) Explain(ctx context.Context, err error, doing, ns, write string) error {
	if write == "" {
		return c.explain(ctx, err, doing, ns)
	}
	return c.namespaceHint(ctx, Explain(err, Request{Doing: doing, Namespace: ns, Host: c.host, Interrupted: ctx.Err() != nil, Again: againOf(ctx), Write: write}))
}
