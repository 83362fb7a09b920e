package kube

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

const deploymentJSON = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"model-green","namespace":"ns"}}`

// TestNoClientSideThrottling: a client from New sends a stage's requests without waiting on a
// client-side rate limiter. client-go's default (5 requests/s after a burst of 10) would hold 60
// requests back about 10 s; the explicit limiter (clientQPS after clientBurst) lets them all go.
func TestNoClientSideThrottling(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprint(w, deploymentJSON)
	}))
	defer srv.Close()
	c, err := New(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 60 {
		if _, err := c.Get(context.Background(), Deployments, "ns", "model-green"); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("60 requests took %s: a client-side limiter held them back", took)
	}
	if served.Load() != 60 {
		t.Errorf("served %d requests, want 60", served.Load())
	}
}

// TestGetNotFoundIsTheObjectsAnswer: for the resources a stage needs served, only the API server's
// own "the object does not exist" reads as absent. A 404 naming no object (a resource type not
// served: Istio not installed) and a 404 page from something else are errors, so one read of the
// VirtualService also checks for Istio; an optional kind not served still reads as absent.
func TestGetNotFoundIsTheObjectsAnswer(t *testing.T) {
	objectAbsent := func(resource, name string) string {
		return fmt.Sprintf(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"%s \"%s\" not found","reason":"NotFound","details":{"name":%q,"kind":%q},"code":404}`, resource, name, name, resource)
	}
	const notServed = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}`
	hpas := schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}
	cases := []struct {
		name    string
		gvr     schema.GroupVersionResource
		answer  func(r *http.Request) (int, string, string) // code, content type, body
		wantErr string                                      // "" means absent (nil, nil)
	}{
		{"a Deployment the server says does not exist", Deployments,
			func(*http.Request) (int, string, string) {
				return 404, "application/json", objectAbsent("deployments.apps", "model-green")
			}, ""},
		{"a VirtualService the server says does not exist", VirtualServices,
			func(*http.Request) (int, string, string) {
				return 404, "application/json", objectAbsent("virtualservices.networking.istio.io", "model-green")
			}, ""},
		{"VirtualServices not served: Istio is not installed", VirtualServices,
			func(r *http.Request) (int, string, string) {
				if strings.HasPrefix(r.URL.Path, "/apis/apps/") {
					return 200, "application/json", `{"apiVersion":"apps/v1","kind":"DeploymentList","metadata":{},"items":[]}`
				}
				return 404, "application/json", notServed
			}, "Istio is not installed in this cluster"},
		{"everything 404s: no Kubernetes API server", VirtualServices,
			func(*http.Request) (int, string, string) { return 404, "application/json", notServed },
			"does not answer as a Kubernetes API server"},
		{"an HTML 404 page for a Deployment", Deployments,
			func(*http.Request) (int, string, string) {
				return 404, "text/html", "<html><head><title>Not Found</title></head><body>nginx</body></html>"
			}, "something other than the API server answered"},
		{"an optional kind not served reads as none", hpas,
			func(*http.Request) (int, string, string) { return 404, "application/json", notServed }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				code, ct, body := tc.answer(r)
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(code)
				_, _ = fmt.Fprint(w, body)
			}))
			defer srv.Close()
			c, err := New(&rest.Config{Host: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			obj, err := c.Get(context.Background(), tc.gvr, "ns", "model-green")
			switch {
			case tc.wantErr == "" && (err != nil || obj != nil):
				t.Errorf("got %v, %v; want absent", obj, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got error %v; want one containing %q", err, tc.wantErr)
			}
		})
	}
}
