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
	var out []*unstructured.Unstructured
	opts := metav1.ListOptions{Limit: listPage}
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
