// Package kube is the small part of mlcanary that talks to the API server: get, server-side apply,
// delete and wait, through the dynamic client with typed objects converted at the edge (the typed
// clientsets would add ~35 MB to a binary the Marketplace caps). It turns API errors into one
// sentence a pipeline user can act on.
package kube

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// FieldManager is the one server-side apply manager mlcanary writes as; fields other managers own
// are left alone.
const FieldManager = "mlcanary"

// Resources mlcanary reads and writes.
var (
	Deployments     = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	Services        = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	Namespaces      = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	VirtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
	Gateways        = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "gateways"}
)

// Kind returns the kind name used in messages for a resource.
func Kind(gvr schema.GroupVersionResource) string {
	switch gvr {
	case Deployments:
		return "Deployment"
	case Services:
		return "Service"
	case VirtualServices:
		return "VirtualService"
	case Gateways:
		return "Gateway"
	case Namespaces:
		return "Namespace"
	}
	return gvr.Resource
}

// Client reads and writes the objects of one cluster.
type Client struct {
	dyn  dynamic.Interface
	host string
}

// New builds a Client for rc without contacting the server.
func New(rc *rest.Config) (*Client, error) {
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("creating Kubernetes client: %w", err)
	}
	return &Client{dyn: dyn, host: redact(rc.Host)}, nil
}

// CheckIstio fails with one sentence when the server does not serve Istio's networking v1 API.
// It lists at most one VirtualService in ns: a list 404s only when the resource type is not served
// (the discovery client would do the same in one request, but links every Kubernetes API group
// into the binary).
func (c *Client) CheckIstio(ctx context.Context, ns string) error {
	_, err := c.dyn.Resource(VirtualServices).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 1})
	if apierrors.IsNotFound(err) {
		return errors.New("Istio is not installed in this cluster: the API server does not serve networking.istio.io/v1 (VirtualService, Gateway); install Istio 1.22 or later")
	}
	if err != nil {
		return c.explain(ctx, err, "checking for Istio's API", ns)
	}
	return ctx.Err()
}

// Get returns the object, or nil when it does not exist.
func (c *Client) Get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error) {
	var r dynamic.ResourceInterface = c.dyn.Resource(gvr)
	if ns != "" {
		r = c.dyn.Resource(gvr).Namespace(ns)
	}
	obj, err := r.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, c.explain(ctx, err, "reading "+Kind(gvr)+" "+qualified(ns, name), ns)
	}
	return obj, nil
}

// Apply server-side applies obj as FieldManager, taking over fields it sets (force), and returns
// what the server stored (or would store, with dryRun).
func (c *Client) Apply(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", obj.GetKind(), qualified(obj.GetNamespace(), obj.GetName()), err)
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager, Force: ptrTo(true)}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	out, err := c.dyn.Resource(gvr).Namespace(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts)
	if err != nil {
		return nil, c.explain(ctx, err, "applying "+obj.GetKind()+" "+qualified(obj.GetNamespace(), obj.GetName()), obj.GetNamespace())
	}
	return out, nil
}

// Delete removes the object; one that is already gone is not an error.
func (c *Client) Delete(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, dryRun bool) error {
	opts := metav1.DeleteOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	err := c.dyn.Resource(gvr).Namespace(ns).Delete(ctx, name, opts)
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	return c.explain(ctx, err, "deleting "+Kind(gvr)+" "+qualified(ns, name), ns)
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

func ptrTo[T any](v T) *T { return &v }

// redact drops a user and password from a server URL before it appears in a message.
func redact(host string) string {
	u, err := url.Parse(host)
	if err != nil || u.User == nil {
		return host
	}
	return u.Redacted()
}

// explain turns an API error into one sentence naming what was being done, what refused it and
// what to do next (Explain); the run's own context ending is told from a slow server.
func (c *Client) explain(ctx context.Context, err error, doing, ns string) error {
	return Explain(err, Request{Doing: doing, Namespace: ns, Host: c.host, Interrupted: ctx.Err() != nil})
}
