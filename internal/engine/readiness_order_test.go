package engine_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// slowModel is blue's scoring process for the stand-in controller (testenv.Controller.ServeModel):
// serve-model's own handler, whose model loads only when the test says so — its clock is moved
// past ReadyAfter by load — so the readiness probe mlcanary adds is answered by the same code
// `mlcanary serve-model --ready-after` runs, on the path the probe names.
type slowModel struct {
	mu     sync.Mutex
	now    time.Time
	loaded atomic.Bool
}

func (m *slowModel) clock() time.Time { m.mu.Lock(); defer m.mu.Unlock(); return m.now }

// load makes the model loaded: the signal flips, and from then on "/" answers 200.
func (m *slowModel) load() {
	m.loaded.Store(true)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(time.Hour)
}

// serveSlowModel registers a model for f's blue that is loading until load.
func serveSlowModel(f *fixture) *slowModel {
	m := &slowModel{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	ctrl.ServeModel(f.ns, "model-blue", scoringmock.Handler(scoringmock.Options{Answer: "New Model B", ReadyAfter: time.Hour, Now: m.clock}))
	return m
}

// neverRoutedWhileLoading checks, at the moment of every VirtualService write (before it is sent),
// that no route of it — weighted or by header — sends traffic to blue while m's model is not
// loaded; it returns how many VirtualService writes it checked.
func neverRoutedWhileLoading(f *fixture, m *slowModel) *atomic.Int64 {
	var checked atomic.Int64
	c := config.Default()
	c.Namespace = f.ns
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	f.rec.beforeWrite = func(req *http.Request) {
		if req.Method != http.MethodPatch || !strings.Contains(req.URL.Path, "/virtualservices/") || req.Body == nil {
			return
		}
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		checked.Add(1)
		var vs unstructured.Unstructured
		if err := vs.UnmarshalJSON(body); err != nil {
			f.rec.violate("undecodable VirtualService write: %v", err)
			return
		}
		for i, route := range httpRoutes(&vs) {
			if sendsTo(&c, f.ns, route, config.Blue) && !m.loaded.Load() {
				f.rec.violate("VirtualService write routes http[%d] (%v) to blue while blue's model is still loading", i, route["name"])
			}
		}
	}
	return &checked
}

// waitProbed waits until the controller has probed blue's pods at least n times and written them
// unready (updated, none available), so the stage under test is known to be waiting on the probe.
func waitProbed(t *testing.T, f *fixture, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		d, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Get(context.Background(), "model-blue", metav1.GetOptions{})
		if err == nil && ctrl.Probes(f.ns, "model-blue") >= n && testenv.IsProbeUnready(d) {
			return
		}
	}
	t.Fatalf("blue was not probed %d times and marked unready within 30s (probes: %d)", n, ctrl.Probes(f.ns, "model-blue"))
}

// TestUnloadedModelIsNeverRouted: against the real API server, a version whose pods are not ready
// by the readiness probe mlcanary adds is never routed to. Blue's model (serve-model's handler)
// loads only when the test flips the signal. On a first release and on a live green, Blue_0 waits
// — writing no route to blue, checked at every VirtualService write — and finishes, with blue's
// header route, only after the flip; on a live green, green keeps all traffic throughout.
func TestUnloadedModelIsNeverRouted(t *testing.T) {
	for _, tc := range []struct {
		name       string
		greenFirst bool
	}{{"first release", false}, {"green serving", true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.greenFirst {
				for _, s := range []string{"Blue_0", "Blue_50", "Blue_100", "Blue_Green", "Green_100"} {
					f.stage(s, imgA)
				}
			}
			m := serveSlowModel(f)
			checked := neverRoutedWhileLoading(f, m)
			type outcome struct {
				res *summary.Result
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				res, err := f.try("Blue_0", imgB)
				done <- outcome{res, err}
			}()
			waitProbed(t, f, 5)
			select {
			case o := <-done:
				t.Fatalf("Blue_0 ended while blue's model was loading: %v", o.err)
			default:
			}
			routing, _ := f.live()
			if routing.Weights[config.Blue] != 0 || routing.Headers[config.Blue] {
				t.Fatalf("while blue's model loads, the live VirtualService sends blue %d%% (header route: %v)", routing.Weights[config.Blue], routing.Headers[config.Blue])
			}
			if tc.greenFirst && routing.Weights[config.Green] != 100 {
				t.Errorf("while blue's model loads, green has %d%%, want 100%%", routing.Weights[config.Green])
			}
			m.load()
			o := <-done
			if o.err != nil {
				t.Fatalf("Blue_0 after the model loaded: %v", o.err)
			}
			routing, _ = f.live()
			if !routing.Headers[config.Blue] {
				t.Errorf("Blue_0 finished without blue's header route: %+v", routing)
			}
			want := 100 // a first release has no green: Blue_50 sends blue everything
			if tc.greenFirst {
				want = 50
			}
			if res := f.stage("Blue_50", imgB); res.Weights.Blue != want {
				t.Errorf("Blue_50 after the model loaded: blue %d%%, want %d", res.Weights.Blue, want)
			}
			if checked.Load() == 0 {
				t.Error("no VirtualService write was checked")
			}
			t.Logf("%d VirtualService writes checked; blue probed %d times", checked.Load(), ctrl.Probes(f.ns, "model-blue"))
		})
	}
}

// TestUnloadedModelFailsAfterTheTimeout: a model that does not load within --timeout fails Blue_0
// with one sentence naming the Deployment, the wait and the pod whose readiness probe is not
// passing, and Blue_50 (blue deployed, still loading)
// waits and fails the same way; neither writes a route to blue and green keeps all traffic. Once
// the model loads, Blue_0 re-run finishes and Blue_50 moves half the traffic.
func TestUnloadedModelFailsAfterTheTimeout(t *testing.T) {
	f := newFixture(t)
	for _, s := range []string{"Blue_0", "Blue_50", "Blue_100", "Blue_Green", "Green_100"} {
		f.stage(s, imgA)
	}
	m := serveSlowModel(f)
	checked := neverRoutedWhileLoading(f, m)
	for _, tc := range []struct{ stage, want string }{
		{"Blue_0", "Blue_0 did not complete: Deployment " + f.ns + "/model-blue did not become ready within 2s: 0 of 1 replicas available; pod model-blue-"},
		{"Blue_50", "Blue_50: blue (Deployment " + f.ns + "/model-blue) must be ready, but 0 of 1 replicas available; Blue_0 deploys it (waited 2s)"},
	} {
		stage, want := tc.stage, tc.want
		c := f.cfg(stage, imgB)
		c.Timeout = 2 * time.Second
		_, err := f.run(c)
		probe := ": container model: running, not ready: readiness probe GET / on port 5001 not passing (a model still loading fails it)"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), probe) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s while blue's model loads: err = %v, want one line containing %q and %q", stage, err, want, probe)
		}
		routing, _ := f.live()
		if routing.Weights[config.Green] != 100 || routing.Weights[config.Blue] != 0 || routing.Headers[config.Blue] {
			t.Fatalf("after %s failed: %+v, want green 100%% and no route to blue", stage, routing)
		}
		t.Logf("%s: %v", stage, err)
	}
	m.load()
	f.stage("Blue_0", imgB)
	if res := f.stage("Blue_50", imgB); res.Weights.Blue != 50 {
		t.Errorf("Blue_50 after the model loaded: blue %d%%, want 50", res.Weights.Blue)
	}
	if checked.Load() == 0 {
		t.Error("no VirtualService write was checked")
	}
}

// TestWithoutProbeAnUnloadedModelIsRouted is the contrast that shows the probe is what protects:
// with --readiness-path none the same loading model's pods have no readiness probe, Kubernetes
// calls them ready as soon as they start, and Blue_0 routes blue's header route to a model that
// answers 503 — the hazard of issue #9. (The stand-in controller honours only the probes a pod
// template has.)
func TestWithoutProbeAnUnloadedModelIsRouted(t *testing.T) {
	f := newFixture(t)
	m := serveSlowModel(f)
	c := f.cfg("Blue_0", imgB)
	c.ReadinessPath = config.ReadinessNone
	if _, err := f.run(c); err != nil {
		t.Fatal(err)
	}
	routing, _ := f.live()
	if m.loaded.Load() || !routing.Headers[config.Blue] {
		t.Fatalf("without a probe, Blue_0 should route to blue at once (the hazard): loaded %v, routing %+v", m.loaded.Load(), routing)
	}
	if n := ctrl.Probes(f.ns, "model-blue"); n != 0 {
		t.Errorf("the controller probed blue %d times, but its pods have no readiness probe", n)
	}
}
