package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// killVersions are the documented flow's versions by their object names.
var killVersions = map[string]config.Names{"green": config.Default().Objects[config.Green], "blue": config.Default().Objects[config.Blue]}

// fingerprint is what a stage's end state is made of: the routes, the record's stage, and each
// version's objects and image.
func (r *killRig) fingerprint() string {
	s := r.snapshot()
	var b strings.Builder
	fmt.Fprintf(&b, "routes %s; stage %q, in progress %q\n", s.routes, s.stage, s.inProgress)
	for _, v := range []string{"green", "blue"} {
		fmt.Fprintf(&b, "%s: Deployment %s (%d replicas), Service %v\n", v, s.image[v], s.replicas[v], s.service[v])
	}
	hpas, err := r.e.Dynamic.Resource(kube.HorizontalPodAutoscalers).Namespace(r.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		r.fatalf("%s: %v", r, err)
	}
	for _, h := range hpas.Items {
		target := nestedString(h.Object, "spec", "scaleTargetRef", "name")
		lo, _, _ := unstructured.NestedInt64(h.Object, "spec", "minReplicas")
		hi, _, _ := unstructured.NestedInt64(h.Object, "spec", "maxReplicas")
		fmt.Fprintf(&b, "HorizontalPodAutoscaler %s → %s, %d..%d\n", h.GetName(), target, lo, hi)
	}
	return b.String()
}

// observe records every invariant violation of the namespace's state now.
func (r *killRig) observe(when string) { r.observeAt(when, time.Now()) }

// observeAt records every invariant violation of the namespace's state after a write that reached
// the proxy at sent. A version's drain is measured from the arrival of the write that took its
// last route to the arrival of the write that replaces or deletes it. (Measured from the first's
// answer, it would count the API server's answer latency against a re-run, which can know only
// when the change was applied, from the VirtualService's record.)
func (r *killRig) observeAt(when string, sent time.Time) {
	s := r.snapshot()
	var bad []string
	for v := range s.routedTo {
		switch {
		case !s.service[v]:
			bad = append(bad, fmt.Sprintf("at %s a route points at %s, whose Service is missing or being deleted (routes %s)", when, v, s.routes))
		case !s.ready[v]:
			bad = append(bad, fmt.Sprintf("at %s a route points at %s, whose Deployment is missing, being deleted or not rolled out (%s; routes %s)", when, v, s.image[v], s.routes))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for v := range killVersions {
		if s.routedTo[v] {
			delete(r.unroutedAt, v)
		} else if r.routed[v] {
			r.unroutedAt[v] = sent
		}
		r.routed[v] = s.routedTo[v]
		replaced := r.uid[v] != "" && (s.uid[v] != r.uid[v] || s.gen[v] != r.gen[v])
		if at, ok := r.unroutedAt[v]; ok && replaced && sent.Sub(at) < 5*time.Second {
			bad = append(bad, fmt.Sprintf("at %s %s's Deployment was replaced or deleted %s after its last route was removed; want the 5s drain", when, v, sent.Sub(at).Round(time.Millisecond)))
		}
		r.uid[v], r.gen[v] = s.uid[v], s.gen[v]
	}
	r.violations = append(r.violations, bad...)
}

// killState is what observe and fingerprint read of the namespace.
type killState struct {
	routes, stage, inProgress string
	// routedTo: the versions a route sends traffic to (a destination of weight > 0, a header
	// route's, a mirror's).
	routedTo map[string]bool
	// service: the version's Service exists and is not being deleted; ready: its Deployment exists,
	// is not being deleted and is rolled out; image, uid and gen describe that Deployment.
	service, ready map[string]bool
	image, uid     map[string]string
	gen, replicas  map[string]int64
}

func (r *killRig) snapshot() killState {
	ctx := context.Background()
	s := killState{routedTo: map[string]bool{}, service: map[string]bool{}, ready: map[string]bool{},
		image: map[string]string{}, uid: map[string]string{}, gen: map[string]int64{}, replicas: map[string]int64{}}
	version := func(host string) string {
		short := strings.ToLower(strings.SplitN(strings.TrimSuffix(host, "."), ".", 2)[0])
		for v, n := range killVersions {
			if n.Service == short {
				return v
			}
		}
		return host
	}
	vs, err := r.e.Dynamic.Resource(kube.VirtualServices).Namespace(r.ns).Get(ctx, config.Default().VirtualService, metav1.GetOptions{})
	switch {
	case err == nil && vs.GetDeletionTimestamp() == nil:
		s.stage, s.inProgress = vs.GetAnnotations()[engine.StageAnnotation], vs.GetAnnotations()[engine.InProgressAnnotation]
		var routes []string
		http, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
		for _, h := range http {
			route, _ := h.(map[string]any)
			dests, _ := route["route"].([]any)
			var to []string
			for _, d := range dests {
				d, _ := d.(map[string]any)
				host := nestedString(d, "destination", "host")
				w, hasWeight := d["weight"].(int64)
				if !hasWeight && len(dests) == 1 {
					w = 100
				}
				to = append(to, fmt.Sprintf("%s=%d", version(host), w))
				if w > 0 {
					s.routedTo[version(host)] = true
				}
			}
			if m, ok := route["mirror"].(map[string]any); ok {
				s.routedTo[version(nestedString(m, "host"))] = true
			}
			mirrors, _ := route["mirrors"].([]any)
			for _, m := range mirrors {
				m, _ := m.(map[string]any)
				s.routedTo[version(nestedString(m, "destination", "host"))] = true
			}
			name, _ := route["name"].(string)
			routes = append(routes, name+"→"+strings.Join(to, ","))
		}
		s.routes = "[" + strings.Join(routes, " ") + "]"
	case err == nil:
		s.routes = "(VirtualService being deleted)"
	default:
		s.routes = "(no VirtualService)"
	}
	for v, n := range killVersions {
		if svc, err := r.e.Dynamic.Resource(kube.Services).Namespace(r.ns).Get(ctx, n.Service, metav1.GetOptions{}); err == nil {
			s.service[v] = svc.GetDeletionTimestamp() == nil
		}
		d, err := r.e.Dynamic.Resource(kube.Deployments).Namespace(r.ns).Get(ctx, n.Deployment, metav1.GetOptions{})
		if err != nil || d.GetDeletionTimestamp() != nil {
			s.image[v] = "none"
			continue
		}
		s.ready[v] = testenv.IsRolledOut(d)
		s.uid[v], s.gen[v] = string(d.GetUID()), d.GetGeneration()
		s.replicas[v], _, _ = unstructured.NestedInt64(d.Object, "spec", "replicas")
		containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			c, _ := c.(map[string]any)
			s.image[v] += nestedString(c, "image")
		}
	}
	return s
}

func nestedString(obj map[string]any, fields ...string) string {
	s, _, _ := unstructured.NestedString(obj, fields...)
	return s
}
