package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/kube/memory"
	"github.com/mlcanary/mlcanary/internal/plan"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// The tests in this file decide against a memory.Cluster: no API server, milliseconds each. They
// cover what the executor decides and in which order it writes; what only a real API server
// proves — server-side apply's field ownership, conflicts, RBAC, admission, the Deployment
// controller's status — stays in the tests on internal/testenv.

// memFixture is one in-memory namespace and an engine on it.
type memFixture struct {
	t   *testing.T
	mem *memory.Cluster
	cl  *engine.Client
}

func newMemFixture(t *testing.T) *memFixture {
	t.Helper()
	mem := memory.New()
	mem.AddNamespace("abtesting")
	cl := engine.New(mem)
	cl.Drain = 0
	cl.Now = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	return &memFixture{t: t, mem: mem, cl: cl}
}

func (f *memFixture) try(stage, image string) (*summary.Result, error) {
	f.t.Helper()
	c := config.Default()
	s, err := config.ParseStage(stage)
	if err != nil {
		f.t.Fatal(err)
	}
	c.Stage, c.Image = s, image
	return f.cl.Stage(context.Background(), c, nil)
}

func (f *memFixture) reach(path []string) {
	f.t.Helper()
	for _, p := range path {
		stage, image := cut(p)
		if _, err := f.try(stage, image); err != nil {
			f.t.Fatalf("%s: %v", p, err)
		}
	}
}

// writes are the writes since the last Forget, as "apply Kind/name" and "delete Kind/name".
func (f *memFixture) writes() []string {
	var out []string
	for _, w := range f.mem.Writes() {
		out = append(out, w.Verb+" "+kube.Kind(w.Resource)+"/"+w.Name)
	}
	return out
}

// vs is the stored VirtualService (nil when there is none).
func (f *memFixture) vs() *unstructured.Unstructured {
	vs, _ := f.mem.Get(context.Background(), kube.VirtualServices, "abtesting", "mlmodel-virtualservice")
	return vs
}

// TestEveryStageFromEveryStateInMemory is the transition table (README "Transitions", the same
// states and verdicts as TestEveryStageFromEveryState) decided against the in-memory cluster: an
// allowed stage leaves the VirtualService with its split and holds on a re-run with zero writes; a
// refused stage is a precondition error and writes nothing.
func TestEveryStageFromEveryStateInMemory(t *testing.T) {
	for stage, byState := range allowed {
		for _, st := range states {
			t.Run(fmt.Sprintf("%s_from_%s", stage, st.name), func(t *testing.T) {
				f := newMemFixture(t)
				f.reach(st.path)
				run, image := cellStage(stage, st.name)
				f.mem.Forget()
				res, err := f.try(run, image)
				if !byState[st.name] {
					var pe *plan.PreconditionError
					if !errors.As(err, &pe) {
						t.Fatalf("%s from %s: got %v, want a precondition error", stage, st.name, err)
					}
					if w := f.writes(); len(w) != 0 {
						t.Errorf("refused %s wrote %v", stage, w)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s from %s: %v", stage, st.name, err)
				}
				cfg := config.Default()
				live := trafficOf(&cfg, f.vs()) // the test's own reading (oracle_test.go)
				if live.Weights[config.Green] != res.Weights.Green || live.Weights[config.Blue] != res.Weights.Blue {
					t.Errorf("%s: stored weights %v, result %+v", stage, live.Weights, res.Weights)
				}
				f.mem.Forget()
				if _, err := f.try(run, image); err != nil {
					t.Fatalf("re-run of %s: %v", stage, err)
				}
				if w := f.writes(); len(w) != 0 {
					t.Errorf("re-run of %s wrote %v, want nothing", stage, w)
				}
			})
		}
	}
}

// TestWriteOrderIsMakeBeforeBreak pins the writes of the stages whose order matters: a new image
// for a blue that carries traffic unroutes it before its Deployment changes; Blue_Green unroutes
// green before giving it blue's image; Green_100 routes everything to green before deleting blue.
func TestWriteOrderIsMakeBeforeBreak(t *testing.T) {
	cases := []struct {
		name  string
		path  []string
		stage string
		image string
		want  string
	}{
		{"Blue_0 with a new image from Blue_50", states[5].path, "Blue_0", imgC,
			"apply VirtualService/mlmodel-virtualservice, apply Deployment/model-blue, apply VirtualService/mlmodel-virtualservice"},
		{"Blue_Green from Blue_100", states[6].path, "Blue_Green", "",
			"apply VirtualService/mlmodel-virtualservice, apply Deployment/model-green, apply VirtualService/mlmodel-virtualservice"},
		{"Green_100 from Blue_Green", states[7].path, "Green_100", "",
			"apply VirtualService/mlmodel-virtualservice, delete Deployment/model-blue, delete Service/model-svc-blue"},
		{"Rollback from Blue_50", states[5].path, "Rollback", "",
			"apply VirtualService/mlmodel-virtualservice, delete Deployment/model-blue, delete Service/model-svc-blue"},
		{"first release Blue_0", nil, "Blue_0", imgA,
			"apply Service/model-svc-blue, apply Deployment/model-blue, apply Gateway/mlmodel-gateway, apply VirtualService/mlmodel-virtualservice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newMemFixture(t)
			f.reach(tc.path)
			f.mem.Forget()
			if _, err := f.try(tc.stage, tc.image); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(f.writes(), ", "); got != tc.want {
				t.Errorf("writes:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestFailedRolloutRoutesNothingInMemory: when blue's rollout fails (the controller reports
// ProgressDeadlineExceeded), Blue_0 stops at the wait with the controller's reason, and the only
// VirtualService write is the one that unrouted blue first: traffic stays on green.
func TestFailedRolloutRoutesNothingInMemory(t *testing.T) {
	f := newMemFixture(t)
	f.reach(states[5].path) // Blue_50
	f.mem.DeploymentStatus = func(d *unstructured.Unstructured) {
		d.Object["status"] = map[string]any{"observedGeneration": d.GetGeneration(), "replicas": int64(1), "updatedReplicas": int64(1), "conditions": []any{
			map[string]any{"type": "Progressing", "status": "False", "reason": kube.TimedOutReason, "message": `ReplicaSet "model-blue-x" has timed out progressing.`},
		}}
	}
	f.mem.Forget()
	res, err := f.try("Blue_0", imgC)
	var se *engine.StageError
	if !errors.As(err, &se) || !kube.IsRolloutFailed(err) || !strings.Contains(err.Error(), "ProgressDeadlineExceeded") {
		t.Fatalf("got %v, want a StageError for the failed rollout", err)
	}
	if got, want := strings.Join(f.writes(), ", "), "apply VirtualService/mlmodel-virtualservice, apply Deployment/model-blue"; got != want {
		t.Errorf("writes: %s, want %s", got, want)
	}
	cfg := config.Default()
	if live := trafficOf(&cfg, f.vs()); live.Weights[config.Green] != 100 || live.References(config.Blue) {
		t.Errorf("traffic after the failed rollout: %+v, want all on green, nothing to blue", live)
	}
	if res == nil || res.Weights.Green != 100 {
		t.Errorf("result says %+v, want what holds: green 100%%", res)
	}
}

// TestDryRunWritesNothingInMemory: a dry run sends every write as a dry run and stores nothing.
func TestDryRunWritesNothingInMemory(t *testing.T) {
	f := newMemFixture(t)
	f.reach(states[4].path) // Blue_0
	before := f.vs()
	f.mem.Forget()
	c := config.Default()
	c.Stage, _ = config.ParseStage("Blue_50")
	res, err := f.cl.Plan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	ws := f.mem.Writes()
	if len(ws) == 0 || res.Diff == "" {
		t.Fatalf("dry run sent %d writes, diff %q; want the VirtualService write as a dry run, with its diff", len(ws), res.Diff)
	}
	for _, w := range ws {
		if !w.DryRun {
			t.Errorf("%s %s/%s sent for real in a dry run", w.Verb, kube.Kind(w.Resource), w.Name)
		}
	}
	if after := f.vs(); after.GetAnnotations()[engine.WeightsAnnotation] != before.GetAnnotations()[engine.WeightsAnnotation] {
		t.Errorf("the dry run changed the stored weights: %s", after.GetAnnotations()[engine.WeightsAnnotation])
	}
}

// TestForeignRouteBlocksRemovalInMemory: a route of another namespace's VirtualService to blue
// (by its cluster-local name) refuses Green_100 before any write, naming it; Rollback still
// returns traffic to green but keeps blue and says why.
func TestForeignRouteBlocksRemovalInMemory(t *testing.T) {
	f := newMemFixture(t)
	f.reach(states[7].path) // Blue_Green
	foreign := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"spec": map[string]any{"hosts": []any{"qa.example.com"}, "http": []any{map[string]any{
			"name": "qa-blue", "route": []any{map[string]any{"destination": map[string]any{"host": "model-svc-blue.abtesting.svc.cluster.local"}}},
		}}},
	}}
	foreign.SetNamespace("qa")
	foreign.SetName("qa-routes")
	f.mem.Add(kube.VirtualServices, foreign)
	f.mem.Forget()
	_, err := f.try("Green_100", "")
	var pe *plan.PreconditionError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "qa-blue") || !strings.Contains(err.Error(), "qa/qa-routes") {
		t.Fatalf("Green_100: %v, want a precondition naming route qa-blue of qa/qa-routes", err)
	}
	if w := f.writes(); len(w) != 0 {
		t.Errorf("refused Green_100 wrote %v", w)
	}
	res, err := f.try("Rollback", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(f.writes(), ", "), "apply VirtualService/mlmodel-virtualservice"; got != want {
		t.Errorf("Rollback writes %s, want only %s (blue kept)", got, want)
	}
	if res.Weights.Green != 100 || !strings.Contains(strings.Join(res.Notes, " "), "blue was kept") {
		t.Errorf("Rollback: weights %+v, notes %q", res.Weights, res.Notes)
	}
}

// seedD0 adds d's objects to the in-memory cluster in namespace abtesting, as a brownfield
// namespace holds them before mlcanary runs (green rolled out), written by another manager.
func seedD0(t *testing.T, f *memFixture, d *d0) {
	t.Helper()
	for _, o := range []struct {
		gvr schema.GroupVersionResource
		obj map[string]any
	}{{kube.Deployments, d.Deployment}, {kube.Services, d.Service}, {kube.Gateways, d.Gateway}, {kube.VirtualServices, d.VirtualService}} {
		u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(o.obj)}
		u.SetNamespace("abtesting")
		u.SetGeneration(1)
		if o.gvr == kube.Deployments {
			memory.RolledOut(u)
		}
		f.mem.Add(o.gvr, u)
	}
}

// TestMemoryApplyKeepsFieldsOfOtherManagers (break-it review of issue #13, F8): memory.Cluster
// stored the applied body as the whole object, so after Blue_Green wrote the adopted green
// Deployment of a brownfield namespace (only the scoring image and replicas), the in-memory green
// had lost its selector, pod labels and ports, which the real API server keeps, and Green_100 in
// memory failed where the real server runs it. Apply now merges (memory's package doc; the
// differential test TestMemoryClusterBehavesLikeTheAPIServer holds it to the real server).
func TestMemoryApplyKeepsFieldsOfOtherManagers(t *testing.T) {
	f := newMemFixture(t)
	seedD0(t, f, newD0())
	f.reach([]string{"Blue_0@" + imgB, "Blue_100", "Blue_Green"})
	green, _ := f.mem.Get(context.Background(), kube.Deployments, "abtesting", "model-green")
	if _, found, _ := unstructured.NestedMap(green.Object, "spec", "selector"); !found {
		t.Errorf("after Blue_Green in memory, adopted green's spec.selector is gone: %v", green.Object["spec"])
	}
	if l := green.GetLabels(); l["model_version"] != "green" {
		t.Errorf("after Blue_Green in memory, adopted green's metadata.labels (its owner's) are %v, want them kept", l)
	}
	if ports, _, _ := unstructured.NestedSlice(green.Object, "spec", "template", "spec", "containers"); len(ports) == 0 || !strings.Contains(fmt.Sprint(ports), "5001") {
		t.Errorf("after Blue_Green in memory, adopted green's container port is gone: %v", ports)
	}
	if _, err := f.try("Green_100", ""); err != nil {
		t.Errorf("Green_100 in memory after Blue_Green on D0 (the real API server runs it): %v", err)
	}
}
