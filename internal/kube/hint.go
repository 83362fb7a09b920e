package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type optionalKey struct{}

// Optional marks the requests made with ctx as optional reads: the caller expects the API server
// to refuse some of them (a namespace-scoped Role listing in all namespaces, a kind the Role does
// not name) and handles a refusal itself, with a note or a narrower read. Such a refusal comes back
// explained as any other (Explain: the verb, the resource, the permissions to grant) but without
// namespaceHint's requests, which only serve an error the user reads: a caller that fails with it
// after all passes it through Client.Hint first.
func Optional(ctx context.Context) context.Context {
	return context.WithValue(ctx, optionalKey{}, true)
}

func optional(ctx context.Context) bool {
	o, _ := ctx.Value(optionalKey{}).(bool)
	return o
}

// Hint is err with namespaceHint's sentence added to the first *APIError in its chain: for an
// error from an Optional read that the caller fails with after all (a required read it made
// optionally). An error already hinted, or any other, is returned as it is; nil stays nil.
func (c *Client) Hint(ctx context.Context, err error) error {
	var e *APIError
	if errors.As(err, &e) {
		c.hint(ctx, e)
	}
	return err
}

// namespaceHint adds to an RBAC refusal in a namespace what is known of the namespace (hint),
// unless the request was Optional, and returns it.
func (c *Client) namespaceHint(ctx context.Context, e *APIError) error {
	if !optional(ctx) {
		c.hint(ctx, e)
	}
	return e
}

// What namespaceHint learnt of a namespace.
type namespaceKnown int

const (
	nsUnasked namespaceKnown = iota
	nsNothing                // it exists, or a Role binds the credentials there: no hint
	nsAbsent                 // the API server says it does not exist
	nsUnknown                // the credentials may neither read it nor list in it
)

// namespaceHints is what hint learnt of each namespace (at most two requests per namespace per
// Client, which a front end builds per run); its lock also makes concurrent refusals in one
// namespace wait for one answer instead of asking each.
type namespaceHints struct {
	mu    sync.Mutex
	known map[string]namespaceKnown
}

// hint adds to e, an RBAC refusal in a namespace, what is known of the namespace: the authorizer
// refuses before anyone looks whether the namespace exists, so a typo'd namespace under a
// namespace-scoped Role reads as a missing permission. One more request (get namespace) tells:
// absent, it says so; unreadable too, a list of at most one VirtualService there tells whether a
// Role binds the credentials in it, and refused, the advice starts with checking the namespace's
// name. Each namespace is asked about once per Client; an answer that tells nothing (a timeout)
// is not kept.
func (c *Client) hint(ctx context.Context, e *APIError) {
	if e.Cause != CauseRBAC || e.Namespace == "" || e.hinted || ctx.Err() != nil {
		return
	}
	e.hinted = true
	c.hints.mu.Lock()
	known := c.hints.known[e.Namespace]
	if known == nsUnasked {
		if known = c.askNamespace(ctx, e.Namespace); known != nsUnasked {
			if c.hints.known == nil {
				c.hints.known = map[string]namespaceKnown{}
			}
			c.hints.known[e.Namespace] = known
		}
	}
	c.hints.mu.Unlock()
	switch known {
	case nsAbsent:
		e.Next = fmt.Sprintf("namespace %q does not exist: check its name, or create it first (kubectl create namespace %s, labelled istio-injection=enabled for the sidecars)", e.Namespace, e.Namespace)
	case nsUnknown:
		e.Next = fmt.Sprintf("check the namespace name %q first (these credentials may neither read namespaces nor list in it, so whether it exists is unknown); if it is right, %s", e.Namespace, e.Next)
	}
}

// askNamespace finds out what hint says of namespace ns: one get of it and, refused, one list of
// at most one VirtualService in it; nsUnasked when the answers tell nothing for sure.
func (c *Client) askNamespace(ctx context.Context, ns string) namespaceKnown {
	obj, err := c.dyn.Resource(Namespaces).Get(ctx, ns, metav1.GetOptions{})
	switch {
	case err == nil && obj != nil:
		return nsNothing
	case apierrors.IsNotFound(err) && objectNotFound(err, ns):
		return nsAbsent
	case CauseOf(Explain(err, Request{})) != CauseRBAC:
		return nsUnasked
	}
	// A list the credentials may make in the namespace shows that a Role binds them there, so
	// the namespace exists; refused too, nothing is known of it.
	_, err = c.dyn.Resource(VirtualServices).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 1})
	switch {
	case err == nil:
		return nsNothing
	case CauseOf(Explain(err, Request{})) == CauseRBAC:
		return nsUnknown
	}
	return nsUnasked
}
