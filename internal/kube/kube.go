// Package kube is the small part of mlcanary that talks to the API server: get, server-side apply,
// delete and wait, through the dynamic client with typed objects converted at the edge (the typed
// clientsets would add ~35 MB to a binary the Marketplace caps). Live objects come back
// unstructured, so a merge keeps every field someone set; reads that need no such fidelity convert
// them once to the typed struct (DeploymentOf, ServiceOf) and judge that, as kubectl's rollout
// status viewer does (RolloutOf). It turns API errors into one sentence a pipeline user can act on.
package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// FieldManager is the server-side apply manager mlcanary writes as; fields other managers own
// are left alone.
const FieldManager = "mlcanary"

// ScaleManager is the manager of mlcanary's one-off writes of a Deployment's spec.replicas that an
// autoscaler owns (README, "Autoscaling"): like `kubectl scale`, it sets the count once and the
// autoscaler may change it afterwards, and it lets FieldManager stop sending spec.replicas without
// the API server resetting them to 1 (Kubernetes' documented hand-over of spec.replicas to an HPA).
const ScaleManager = "mlcanary-scale"

type managerKey struct{}

// WithFieldManager makes Apply write as manager (ScaleManager) for requests made with the context.
func WithFieldManager(ctx context.Context, manager string) context.Context {
	return context.WithValue(ctx, managerKey{}, manager)
}

func managerOf(ctx context.Context) string {
	if m, ok := ctx.Value(managerKey{}).(string); ok && m != "" {
		return m
	}
	return FieldManager
}

// Resources mlcanary reads and writes.
var (
	Deployments     = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	Services        = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	Namespaces      = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	VirtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
	Gateways        = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "gateways"}
	// The autoscalers: autoscaling/v2 HPAs and KEDA's ScaledObjects (when its CRD is installed).
	HorizontalPodAutoscalers = schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}
	ScaledObjects            = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}
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
	case HorizontalPodAutoscalers:
		return "HorizontalPodAutoscaler"
	case ScaledObjects:
		return "ScaledObject"
	}
	return gvr.Resource
}

// Client reads and writes the objects of one cluster.
type Client struct {
	dyn  dynamic.Interface
	host string
	// hints is what namespaceHint learnt of each namespace, so it asks at most once per Client.
	hints namespaceHints
}

// Client-side rate limit: a stage sends a few dozen requests at most (a writing Blue_N seven),
// and client-go's default limiter (5 requests/s after a burst of 10) would make it wait on itself
// past the tenth. This explicit limiter is bounded, so a runaway loop still cannot flood the API
// server, but a stage never waits on it at its normal count; the API server's own priority and
// fairness (429 with Retry-After) is what throttles.
const (
	clientQPS   = 50
	clientBurst = 100
)

// requestTimeout bounds each API request (unless rc sets its own), so a hung API server cannot
// stall a stage past --timeout, nor hold the lock or a status read.
const requestTimeout = 30 * time.Second

// New builds a Client for rc without contacting the server.
//
// A 429 Too Many Requests fails the request at once, saying the server's Retry-After, instead of
// client-go retrying it silently up to 10 times (noSilentRetry). Unless rc brings its own
// RateLimiter, requests are limited to clientQPS per second after a burst of clientBurst.
func New(rc *rest.Config) (*Client, error) {
	rc = rest.CopyConfig(rc)
	if rc.Timeout == 0 {
		rc.Timeout = requestTimeout
	}
	// client-go prints API warnings to stderr through klog, unescaped: a warning text could then
	// act as an Azure DevOps or GitHub logging command. mlcanary uses only GA APIs, so it drops them.
	rc.WarningHandler = rest.NoWarnings{}
	if rc.RateLimiter == nil {
		rc.QPS, rc.Burst = clientQPS, clientBurst
	}
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return noSilentRetry{next: rt} })
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
	if st, ok := statusOf(err); ok && apierrors.IsNotFound(err) && !isHTML(st) {
		// A server that answers 404 to everything (a wrong port or path, an ingress, a proxy for a
		// cluster that is gone) is no Kubernetes API server: a core list tells it from a missing Istio.
		if _, err := c.dyn.Resource(Deployments).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 1}); apierrors.IsNotFound(err) {
			return &APIError{Cause: CauseUnreachable, Doing: "checking for Istio's API", Err: err,
				Reason: fmt.Sprintf("the server at %s does not answer as a Kubernetes API server (it answers 404 Not Found to the core apps/v1 Deployments list too)", c.host),
				Next:   "check the server address in the kubeconfig or service connection (scheme, host, port and any path), then " + again(ctx)}
		} else if err != nil {
			return c.explain(ctx, err, "checking for Istio's API", ns)
		}
		return errors.New("Istio is not installed in this cluster: the API server does not serve networking.istio.io/v1 (VirtualService, Gateway); install Istio 1.22 or later")
	}
	if err != nil {
		return c.explain(ctx, err, "checking for Istio's API", ns)
	}
	return ctx.Err()
}

// Get returns the object, or nil when it does not exist.
//
// For the resources mlcanary needs served (Deployments, Services, Namespaces, VirtualServices,
// Gateways), only the API server's own answer that the object does not exist is "does not exist":
// a 404 that names no object is the resource type not being served (Istio not installed: the same
// sentence as CheckIstio, which is asked only then) or something other than an API server
// answering, and is an error. So reading the VirtualService also checks for Istio, in one request.
func (c *Client) Get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error) {
	var r dynamic.ResourceInterface = c.dyn.Resource(gvr)
	if ns != "" {
		r = c.dyn.Resource(gvr).Namespace(ns)
	}
	obj, err := r.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && (!required(gvr) || objectNotFound(err, name)) {
		return nil, nil
	}
	if apierrors.IsNotFound(err) && (gvr == VirtualServices || gvr == Gateways) {
		if ierr := c.CheckIstio(ctx, ns); ierr != nil {
			return nil, ierr
		}
	}
	if err != nil {
		return nil, c.explain(ctx, err, "reading "+Kind(gvr)+" "+qualified(ns, name), ns)
	}
	return obj, nil
}

// Apply server-side applies obj as FieldManager (or the manager WithFieldManager gave ctx), taking
// over fields it sets (force), and returns
// what the server stored (or would store, with dryRun).
func (c *Client) Apply(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", obj.GetKind(), qualified(obj.GetNamespace(), obj.GetName()), err)
	}
	opts := metav1.PatchOptions{FieldManager: managerOf(ctx), Force: ptrTo(true)}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	out, err := c.dyn.Resource(gvr).Namespace(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts)
	if err != nil {
		object := obj.GetKind() + " " + qualified(obj.GetNamespace(), obj.GetName())
		if dryRun {
			return nil, c.explain(ctx, err, "applying "+object, obj.GetNamespace())
		}
		return nil, c.explainWrite(ctx, err, "applying", object, obj.GetNamespace())
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
	if dryRun {
		return c.explain(ctx, err, "deleting "+Kind(gvr)+" "+qualified(ns, name), ns)
	}
	return c.explainWrite(ctx, err, "deleting", Kind(gvr)+" "+qualified(ns, name), ns)
}

// required reports whether gvr is one of the resources every stage needs the API server to serve.
func required(gvr schema.GroupVersionResource) bool {
	switch gvr {
	case Deployments, Services, Namespaces, VirtualServices, Gateways:
		return true
	}
	return false
}

// objectNotFound reports whether err is the API server's answer that object name does not exist
// (a Status naming it), not a 404 for a path it does not serve (a Status naming no object, as for a
// resource type that is not installed) nor a 404 that client-go made up from another server's page.
func objectNotFound(err error, name string) bool {
	st, ok := statusOf(err)
	if !ok || st.Details == nil || st.Details.Name != name {
		return false
	}
	for _, c := range st.Details.Causes {
		if c.Type == metav1.CauseTypeUnexpectedServerResponse {
			return false
		}
	}
	return true
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
	return c.namespaceHint(ctx, Explain(err, Request{Doing: doing, Namespace: ns, Host: c.host, Interrupted: ctx.Err() != nil, Again: againOf(ctx)}))
}

// explainWrite is explain for a write (not a dry run) of object: when the answer was lost, the
// error says the write may have been applied (APIError.Unsure), e.g. "the VirtualService
// abtesting/model-vs write may have been applied".
func (c *Client) explainWrite(ctx context.Context, err error, verb, object, ns string) error {
	return c.namespaceHint(ctx, Explain(err, Request{Doing: verb + " " + object, Namespace: ns, Host: c.host, Interrupted: ctx.Err() != nil, Again: againOf(ctx), Write: object}))
}

type againKey struct{}

// WithCommand makes the next steps of errors from requests under ctx say "run <command> again"
// (e.g. "mlcanary status") instead of "run the stage again": status, plan and verify run no stage.
func WithCommand(ctx context.Context, command string) context.Context {
	return context.WithValue(ctx, againKey{}, "run "+command+" again")
}

func againOf(ctx context.Context) string {
	s, _ := ctx.Value(againKey{}).(string)
	return s
}

// again is the "run … again" of ctx's command.
func again(ctx context.Context) string {
	if s := againOf(ctx); s != "" {
		return s
	}
	return "run the stage again"
}
