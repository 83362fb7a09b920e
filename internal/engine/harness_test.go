package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/routing"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

var nsCounter atomic.Int64

// fixture is one namespace with a counting, invariant-checking client.
type fixture struct {
	t   *testing.T
	ns  string
	rec *recorder
	cl  *engine.Client
	// others are more namespaces the test created (otherNamespace) whose VirtualServices the
	// recorder checks too.
	others []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	shared.Env(t)
	ns := fmt.Sprintf("abtesting-%d", nsCounter.Add(1))
	if err := env.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ns: ns}
	f.rec = &recorder{f: f}
	rc := rest.CopyConfig(env.Config)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { f.rec.next = keepIstioWrites(t, rt); return f.rec })
	cl, err := engine.NewClient(rc)
	if err != nil {
		t.Fatal(err)
	}
	cl.PollInterval = 20 * time.Millisecond
	cl.Drain = 30 * time.Millisecond
	cl.Now = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	f.cl = cl
	return f
}

// cfg returns the documented defaults in the fixture's namespace for stage, with image.
func (f *fixture) cfg(stage, image string) config.Config {
	c := config.Default()
	c.Namespace = f.ns
	s, err := config.ParseStage(stage)
	if err != nil {
		f.t.Fatal(err)
	}
	c.Stage, c.Image, c.Timeout = s, image, 20*time.Second
	return c
}

// stage performs a stage and fails the test on error or on a safety violation.
func (f *fixture) stage(stage, image string) *summary.Result {
	f.t.Helper()
	res, err := f.try(stage, image)
	if err != nil {
		f.t.Fatalf("%s: %v", stage, err)
	}
	return res
}

func (f *fixture) try(stage, image string) (*summary.Result, error) {
	f.t.Helper()
	return f.run(f.cfg(stage, image))
}

func (f *fixture) run(c config.Config) (*summary.Result, error) {
	f.t.Helper()
	res, err := f.cl.Stage(context.Background(), c, f.t.Logf)
	f.rec.assertSafe(f.t)
	return res, err
}

// recorder counts requests and checks, at the moment of every write, that no route points at a
// missing or unready version and that nothing routed is replaced or deleted; and, comparing the
// object before and after every applied write, that no field another manager owns changed other
// than those mlcanary means to own (fields_test.go).
type recorder struct {
	f          *fixture
	next       http.RoundTripper
	mu         sync.Mutex
	requests   int
	writes     []string
	lists      []string // list requests for VirtualServices, with their query
	sent       []string // every request since the last reset: "METHOD path?query" (requests_test.go)
	violations []string
	// beforeWrite, when set, runs just before a write is sent: a test's concurrent writer.
	beforeWrite func(req *http.Request)
	// answer, when set and it returns a response, answers a request instead of the API server.
	answer func(*http.Request) *http.Response
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	// A dry run says so in the query (apply) or in the DeleteOptions body (delete).
	dryRun := strings.Contains(req.URL.RawQuery, "dryRun=All") || bytes.Contains(body, []byte(`"dryRun":["All"]`))
	write := req.Method != http.MethodGet && !dryRun
	r.mu.Lock()
	r.requests++
	r.sent = append(r.sent, sentLine(req, dryRun))
	if write {
		r.writes = append(r.writes, req.Method+" "+req.URL.Path)
	}
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/virtualservices") {
		r.lists = append(r.lists, req.URL.Path+"?"+req.URL.RawQuery)
	}
	r.mu.Unlock()
	if write {
		r.check(req, body)
		r.mu.Lock()
		hook := r.beforeWrite
		r.mu.Unlock()
		if hook != nil {
			hook(req)
		}
	}
	if r.answer != nil {
		if resp := r.answer(req); resp != nil {
			return resp, nil
		}
	}
	if !write || req.Method != http.MethodPatch {
		return r.next.RoundTrip(req)
	}
	// The ownership rule (fields_test.go): compare the object just before and after the write.
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	resource, name := parts[len(parts)-2], parts[len(parts)-1]
	before := liveObject(resource, r.f.ns, name)
	resp, err := r.next.RoundTrip(req)
	if err == nil && resp.StatusCode < 300 {
		c := config.Default()
		c.Namespace = r.f.ns
		for _, v := range checkOwnership(&c, before, liveObject(resource, r.f.ns, name)) {
			r.violate("%s", v)
		}
	}
	return resp, err
}

// WrappedRoundTripper lets client-go cancel a request that timed out on the transport underneath
// (without it, client-go logs that it could not).
func (r *recorder) WrappedRoundTripper() http.RoundTripper { return r.next }

// reset forgets what was counted so far.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests, r.writes, r.lists, r.sent = 0, nil, nil, nil
}

// listed returns the VirtualService list requests counted since the last reset.
func (r *recorder) listed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lists...)
}

func (r *recorder) counts() (requests int, writes []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, append([]string(nil), r.writes...)
}

func (r *recorder) assertSafe(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.violations {
		t.Errorf("safety violation: %s", v)
	}
	r.violations = nil
}

func (r *recorder) violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

func (r *recorder) check(req *http.Request, body []byte) {
	c := config.Default()
	c.Namespace = r.f.ns
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	resource, name := parts[len(parts)-2], parts[len(parts)-1]
	switch {
	case resource == "virtualservices" && req.Method == http.MethodPatch:
		r.checkRoutes(&c, name, body)
		r.checkDefaultKept(&c, name, body)
	case resource == "virtualservices" && req.Method == http.MethodDelete:
		r.checkDefaultKept(&c, name, []byte(`{}`))
	case resource == "deployments" || resource == "services":
		for _, v := range config.Versions {
			if name == c.Objects[v].Deployment || name == c.Objects[v].Service {
				r.checkUnrouted(&c, v, req.Method+" "+resource+"/"+name)
			}
		}
	}
}

// checkRoutes: every version the VirtualService about to be written sends traffic to must be
// ready, except through a route someone else has there already, unchanged (the write did not add
// it; a route of mlcanary's name is always checked). Read by the test itself (oracle_test.go).
func (r *recorder) checkRoutes(c *config.Config, name string, body []byte) {
	var vs unstructured.Unstructured
	if err := vs.UnmarshalJSON(body); err != nil { // numbers as int64, as the API machinery reads them
		r.violate("undecodable VirtualService write: %v", err)
		return
	}
	live, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(c.Namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		live = nil
	}
	before := httpRoutes(live)
	routed := map[config.Version]bool{}
	for _, route := range httpRoutes(&vs) {
		name, _, _ := unstructured.NestedString(route, "name")
		if !slices.Contains(roleNames, name) && slices.ContainsFunc(before, func(b map[string]any) bool { return reflect.DeepEqual(b, route) }) {
			continue
		}
		for _, v := range config.Versions {
			routed[v] = routed[v] || sendsTo(c, c.Namespace, route, v)
		}
	}
	for _, v := range config.Versions {
		if !routed[v] {
			continue
		}
		d, err := env.Dynamic.Resource(kube.Deployments).Namespace(c.Namespace).Get(context.Background(), c.Objects[v].Deployment, metav1.GetOptions{})
		if err != nil || !testenv.IsRolledOut(d) && !testenv.IsScalingUp(d) {
			r.violate("VirtualService %s routes to %s while its Deployment is missing or not ready (%v)", name, v, err)
		}
		if _, err := env.Dynamic.Resource(kube.Services).Namespace(c.Namespace).Get(context.Background(), c.Objects[v].Service, metav1.GetOptions{}); err != nil {
			r.violate("VirtualService %s routes to %s while its Service is missing: %v", name, v, err)
		}
	}
}

// checkDefaultKept: once requests without the header have somewhere to go (a route that matches
// every request and sends traffic), no write takes that away.
func (r *recorder) checkDefaultKept(c *config.Config, name string, body []byte) {
	live, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(c.Namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return
	}
	if _, ok := defaultRoute(live); !ok {
		return
	}
	next := unstructured.Unstructured{Object: map[string]any{}}
	if string(body) != "{}" {
		if err := next.UnmarshalJSON(body); err != nil {
			r.violate("undecodable VirtualService write: %v", err)
			return
		}
	}
	if _, ok := defaultRoute(&next); !ok {
		r.violate("VirtualService %s write removes the default route: requests without the header would get 404", name)
	}
}

// checkUnrouted: a version's Deployment may be changed or deleted, and its Service deleted, only
// while no route points at it (applying a Service is always safe): no route or mirror of any
// VirtualService in the namespace or in the test's other namespaces, mlcanary's own among them,
// sends to the version's Service by any spelling of its host.
func (r *recorder) checkUnrouted(c *config.Config, v config.Version, what string) {
	if strings.HasPrefix(what, http.MethodPatch+" services/") {
		return
	}
	for _, ns := range append([]string{c.Namespace}, r.f.others...) {
		all, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			r.violate("%s: listing VirtualServices to check it is unrouted: %v", what, err)
			return
		}
		for i := range all.Items {
			vs := &all.Items[i]
			for _, kind := range []string{"http", "tcp", "tls"} {
				routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", kind)
				for j, x := range routes {
					if route, _ := x.(map[string]any); sendsTo(c, vs.GetNamespace(), route, v) {
						r.violate("%s while version %s is routed by %s[%d] of VirtualService %s/%s", what, v, kind, j, vs.GetNamespace(), vs.GetName())
					}
				}
			}
		}
	}
}

// live reads the traffic (trafficOf, the test's own reading) and the images on the cluster.
func (f *fixture) live() (routing.Routing, map[config.Version]string) {
	f.t.Helper()
	c := f.cfg("Blue_0", "")
	vs, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(f.ns).Get(context.Background(), c.VirtualService, metav1.GetOptions{})
	if err != nil {
		vs = nil
	}
	images := map[config.Version]string{}
	for _, v := range config.Versions {
		d, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Get(context.Background(), c.Objects[v].Deployment, metav1.GetOptions{})
		if err == nil {
			cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
			images[v], _, _ = unstructured.NestedString(cs[0].(map[string]any), "image")
		}
	}
	return trafficOf(&c, vs), images
}
