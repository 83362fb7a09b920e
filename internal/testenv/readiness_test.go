package testenv_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// probed is a Deployment named name whose one container declares port 5001 named http and, when
// probe is not nil, has that readiness probe.
func probed(name string, probe map[string]any) *unstructured.Unstructured {
	ct := map[string]any{"name": "model", "image": "x:1", "ports": []any{map[string]any{"name": "http", "containerPort": int64(5001)}}}
	if probe != nil {
		ct["readinessProbe"] = probe
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": "default"},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec":     map[string]any{"containers": []any{ct}},
			},
		},
	}}
}

func httpGet(path string, port any) map[string]any {
	return map[string]any{"httpGet": map[string]any{"path": path, "port": port}}
}

// controllerHonoursProbes: with a model registered (ServeModel), a Deployment is ready only while
// its pods' HTTP readiness probes get a 2xx/3xx from it, on a port the container declares (by
// number or name); it becomes unready again when the model stops answering; a pod template without
// a readiness probe is ready whatever the model answers.
func controllerHonoursProbes(t *testing.T, e *testenv.Env, c *testenv.Controller) {
	ctx := context.Background()
	var loaded atomic.Bool
	model := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ready" || !loaded.Load() {
			http.Error(w, "loading", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	cases := map[string]map[string]any{
		"by-number":  httpGet("/ready", int64(5001)),
		"by-name":    httpGet("/ready", "http"),
		"wrong-port": httpGet("/ready", int64(8080)),
		"wrong-path": httpGet("/elsewhere", int64(5001)),
		"no-probe":   nil,
	}
	for name, probe := range cases {
		c.ServeModel("default", name, model)
		if _, err := e.Dynamic.Resource(kube.Deployments).Namespace("default").Create(ctx, probed(name, probe), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	state := func(name string) (rolledOut, unready bool) {
		d, err := e.Dynamic.Resource(kube.Deployments).Namespace("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return testenv.IsRolledOut(d), testenv.IsProbeUnready(d)
	}
	// settle waits until every Deployment is in the state want says (true: rolled out; false: unready).
	settle := func(phase string, want map[string]bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for name, ready := range want {
			for {
				out, unready := state(name)
				if (ready && out) || (!ready && unready && !out) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: Deployment %s: rolled out %v, probe-unready %v; want ready %v", phase, name, out, unready, ready)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	settle("model loading", map[string]bool{"by-number": false, "by-name": false, "wrong-port": false, "wrong-path": false, "no-probe": true})
	loaded.Store(true)
	settle("model loaded", map[string]bool{"by-number": true, "by-name": true, "wrong-port": false, "wrong-path": false, "no-probe": true})
	loaded.Store(false)
	settle("model stopped answering", map[string]bool{"by-number": false, "by-name": false, "no-probe": true})
	if c.Probes("default", "by-number") == 0 || c.Probes("default", "no-probe") != 0 {
		t.Errorf("probes sent: by-number %d (want some), no-probe %d (want none)", c.Probes("default", "by-number"), c.Probes("default", "no-probe"))
	}

	// ModelLoadTime: each generation's pods answer 503 for the load time, then 200.
	c.ModelLoadTime(time.Second)
	start := time.Now()
	if _, err := e.Dynamic.Resource(kube.Deployments).Namespace("default").Create(ctx, probed("slow", httpGet("/", int64(5001))), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	settle("slow model loading", map[string]bool{"slow": false})
	settle("slow model loaded", map[string]bool{"slow": true})
	if took := time.Since(start); took < time.Second {
		t.Errorf("a model that takes 1s to load was ready after %s", took)
	}
	d, err := e.Dynamic.Resource(kube.Deployments).Namespace("default").Get(ctx, "slow", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(d.Object, map[string]any{"app": "slow", "rollout": "2"}, "spec", "template", "metadata", "labels")
	if _, err := e.Dynamic.Resource(kube.Deployments).Namespace("default").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	settle("new pods loading the model again", map[string]bool{"slow": false})
	settle("new pods loaded", map[string]bool{"slow": true})
}
