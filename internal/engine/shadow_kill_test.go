package engine_test

// Shadow_N around Rollback, SIGKILL after every write and a blue without ready pods, against the real
// API server (held cases of the second #11 break-it review, kept as regression tests).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// mirrorHostsIn lists every mirror destination host of every HTTP route of the VirtualService.
func mirrorHostsIn(t *testing.T, ns string) []string {
	t.Helper()
	vs := get(t, kube.VirtualServices, ns, "mlmodel-virtualservice")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	var hosts []string
	for _, r := range routes {
		m := r.(map[string]any)
		if h, found, _ := unstructured.NestedString(m, "mirror", "host"); found {
			hosts = append(hosts, h)
		}
		ms, _, _ := unstructured.NestedSlice(m, "mirrors")
		for _, x := range ms {
			if h, found, _ := unstructured.NestedString(x.(map[string]any), "destination", "host"); found {
				hosts = append(hosts, h)
			}
		}
	}
	return hosts
}

// TestShadowRollbackLeavesNoMirrorToADeletedService: during Shadow_10 someone re-points the
// default route's mirror to blue's own Service in another form — its fully qualified name, or
// another port of it (the model's metrics/debug port) — so the mirror is "someone else's" and
// every stage keeps it (S2's fix). The pipeline then fails and runs Rollback, which deletes blue's
// Service and Deployment. Whatever mlcanary decides about that mirror, it must not leave a mirror
// to a Service it just deleted (Envoy then has no cluster for it; Istio's analyzer reports
// IST0101 ReferencedResourceNotFound), nor fail the failure path: either it keeps blue's Service
// while something still mirrors there (saying so), or it removes that mirror.
func TestShadowRollbackLeavesNoMirrorToADeletedService(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mirror func(ns string) map[string]any
	}{
		{"fully qualified", func(ns string) map[string]any {
			return map[string]any{"host": "model-svc-blue." + ns + ".svc.cluster.local", "port": map[string]any{"number": int64(5001)}}
		}},
		{"another port", func(string) map[string]any {
			return map[string]any{"host": "model-svc-blue", "port": map[string]any{"number": int64(9090)}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach(states[8].path) // Shadow_10
			editVS(t, f.ns, func(m map[string]any) { m["mirror"] = tc.mirror(f.ns) })
			_, err := f.try("Rollback", "")
			_, svcErr := env.Dynamic.Resource(kube.Services).Namespace(f.ns).Get(context.Background(), "model-svc-blue", metav1.GetOptions{})
			hosts := mirrorHostsIn(t, f.ns)
			t.Logf("Rollback: %v; blue's Service: %v; mirrors left: %v", err, svcErr, hosts)
			if err != nil {
				t.Errorf("Rollback (the failure path) failed over someone else's mirror to blue: %v", err)
			}
			if svcErr != nil {
				for _, h := range hosts {
					if h == "model-svc-blue" || h == "model-svc-blue."+f.ns+".svc.cluster.local" {
						t.Errorf("Rollback deleted blue's Service and left the default route mirroring to it (%s)", h)
					}
				}
			}
		})
	}
}

// dyingTransport is a process killed (SIGKILL) right after its k-th write reached the API server:
// that write is applied, its answer never arrives, and nothing more is sent.
type dyingTransport struct {
	next   http.RoundTripper
	mu     sync.Mutex
	k      int
	writes int
	dead   bool
}

func (d *dyingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	d.mu.Lock()
	dead := d.dead
	d.mu.Unlock()
	if dead {
		return nil, errors.New("killed")
	}
	resp, err := d.next.RoundTrip(req)
	if err != nil || req.Method == http.MethodGet || strings.Contains(req.URL.RawQuery, "dryRun") || resp.StatusCode >= 300 {
		return resp, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	if d.writes == d.k {
		d.dead = true
		_ = resp.Body.Close()
		return nil, errors.New("killed")
	}
	return resp, nil
}

// killedAt runs stage with a client killed after its k-th write; it reports whether the kill
// happened (false: the stage has fewer than k writes).
func (f *fixture) killedAt(stage, image string, k int) bool {
	f.t.Helper()
	d := &dyingTransport{k: k}
	rc := rest.CopyConfig(env.Config)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { d.next = rt; return d })
	cl, err := engine.NewClient(rc)
	if err != nil {
		f.t.Fatal(err)
	}
	cl.PollInterval, cl.Drain, cl.Now = f.cl.PollInterval, f.cl.Drain, f.cl.Now
	c := f.cfg(stage, image)
	c.Timeout = 5 * time.Second
	_, _ = cl.Stage(context.Background(), c, func(string, ...any) {})
	return d.dead
}

// danglingReferences lists the routes' and mirrors' hosts of the VirtualService that name
// blue's or green's Service while that Service does not exist, and a mirror to blue while blue's
// Deployment is not at wantBlue (replaced under the mirror).
func danglingReferences(t *testing.T, f *fixture) []string {
	t.Helper()
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	var out []string
	for _, svc := range []string{"model-svc-blue", "model-svc-green"} {
		_, err := env.Dynamic.Resource(kube.Services).Namespace(f.ns).Get(context.Background(), svc, metav1.GetOptions{})
		if err == nil {
			continue
		}
		for i, r := range routes {
			m := r.(map[string]any)
			dests, _, _ := unstructured.NestedSlice(m, "route")
			for _, d := range dests {
				if h, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host"); h == svc {
					out = append(out, fmt.Sprintf("http[%d] routes to missing %s", i, svc))
				}
			}
			if h, _, _ := unstructured.NestedString(m, "mirror", "host"); h == svc {
				out = append(out, fmt.Sprintf("http[%d] mirrors to missing %s", i, svc))
			}
		}
	}
	return out
}

// TestShadowKilledAtEveryWriteAroundShadow: every transition into and out of Shadow_10 is
// killed (SIGKILL) right after each of its writes. After every kill nothing may route or mirror to
// a Service that does not exist, and a mirror to blue may stand only while blue's pods are the
// ones that were ready (imgB); then re-running the same stage, and Rollback (the pipeline's failure
// path), must succeed and end without a mirror (Shadow_20: with its 20%).
func TestShadowKilledAtEveryWriteAroundShadow(t *testing.T) {
	for _, tc := range []struct {
		from         []string
		stage, image string
		mirror       int
	}{
		{states[4].path, "Shadow_10", "", 10},
		{states[8].path, "Shadow_20", "", 20},
		{states[8].path, "Blue_50", "", 0},
		{states[8].path, "Rollback", "", 0},
		{states[8].path, "Blue_0", imgC, 0},
	} {
		for k := 1; k < 12; k++ {
			name := fmt.Sprintf("%s/after-write-%d", tc.stage, k)
			var killed bool
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				f.reach(tc.from)
				killed = f.killedAt(tc.stage, tc.image, k)
				if !killed {
					t.Skip("fewer writes")
				}
				for _, d := range danglingReferences(t, f) {
					t.Errorf("killed after write %d: %s", k, d)
				}
				r, images := f.live()
				if r.Mirror > 0 && images[config.Blue] != imgB {
					t.Errorf("killed after write %d: mirror %d%% to blue while blue's image is %q", k, r.Mirror, images[config.Blue])
				}
				res, err := f.try(tc.stage, tc.image)
				if err != nil {
					t.Fatalf("re-running %s after the kill: %v", tc.stage, err)
				}
				if res.Mirror != tc.mirror {
					t.Errorf("re-run %s: mirror %d%%, want %d%%", tc.stage, res.Mirror, tc.mirror)
				}
				if _, err := f.try("Rollback", ""); err != nil {
					t.Fatalf("Rollback after the kill and re-run: %v", err)
				}
				if r, images := f.live(); r.Mirror != 0 || images[config.Blue] != "" || len(danglingReferences(t, f)) > 0 {
					t.Errorf("after Rollback: mirror %d%%, blue %q, dangling %v", r.Mirror, images[config.Blue], danglingReferences(t, f))
				}
			})
			if !killed {
				break
			}
		}
	}
}

// TestShadowRefusesABlueWithoutReadyPods: during Shadow_10 blue's Deployment is
// scaled to 0 (someone saving GPU nodes, a scale-to-zero autoscaler seeing no weight on blue).
// "Blue must exist and be ready (make-before-break applies to the mirror destination too)":
// re-running Shadow_10, or Shadow_20, must not report a mirror to blue as done while blue has no
// ready pod — it either brings blue back to ready first or refuses.
func TestShadowRefusesABlueWithoutReadyPods(t *testing.T) {
	for _, next := range []string{"Shadow_10", "Shadow_20"} {
		t.Run(next, func(t *testing.T) {
			f := newFixture(t)
			f.reach(states[8].path) // Shadow_10
			d := get(t, kube.Deployments, f.ns, "model-blue")
			if err := unstructured.SetNestedField(d.Object, int64(0), "spec", "replicas"); err != nil {
				t.Fatal(err)
			}
			if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Update(context.Background(), d, metav1.UpdateOptions{FieldManager: "kubectl-scale"}); err != nil {
				t.Fatal(err)
			}
			// The Deployment controller's answer (the test plays it: testenv's skips 0 replicas).
			d = get(t, kube.Deployments, f.ns, "model-blue")
			d.Object["status"] = map[string]any{"observedGeneration": d.GetGeneration(), "replicas": int64(0),
				"conditions": []any{map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
					map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}}}
			if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).UpdateStatus(context.Background(), d, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			res, err := f.try(next, "")
			d = get(t, kube.Deployments, f.ns, "model-blue")
			ready, _, _ := unstructured.NestedInt64(d.Object, "status", "readyReplicas")
			r, _ := f.live()
			t.Logf("%s: err %v; mirror %d%%; blue ready pods %d", next, err, r.Mirror, ready)
			if err == nil && ready == 0 && r.Mirror > 0 {
				t.Errorf("%s succeeded (mirror %d%%, notes %q) while blue has no ready pod", next, res.Mirror, res.Notes)
			}
		})
	}
}
