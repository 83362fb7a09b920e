package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// listPage bounds each list request, so a namespace with thousands of objects is read in pages of
// this many (the API server's continue tokens) rather than in one response of unbounded size.
const listPage = 500

// List returns every object of gvr in ns ("" lists all namespaces), read in pages of listPage
// objects. A refusal by RBAC is returned as an error IsForbidden recognises, so a caller can fall
// back to a narrower list.
func (c *Client) List(ctx context.Context, gvr schema.GroupVersionResource, ns string) ([]*unstructured.Unstructured, error) {
	return c.ListSelected(ctx, gvr, ns, "")
}

// ListSelected is List of only the objects whose labels match selector (a label selector such as
// `istio in (ingressgateway,ingress)`; "" matches every object), filtered by the API server.
func (c *Client) ListSelected(ctx context.Context, gvr schema.GroupVersionResource, ns, selector string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	opts := metav1.ListOptions{Limit: listPage, LabelSelector: selector}
	for {
		page, err := c.dyn.Resource(gvr).Namespace(ns).List(ctx, opts)
		if err != nil {
			where := "in namespace " + ns
			if ns == "" {
				where = "in all namespaces"
			}
			return nil, c.explain(ctx, err, "listing "+Kind(gvr)+"s "+where, ns)
		}
		for i := range page.Items {
			out = append(out, &page.Items[i])
		}
		if opts.Continue = page.GetContinue(); opts.Continue == "" {
			return out, nil
		}
	}
}
