package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// pause sets spec.paused on Deployment ns/name as `kubectl rollout pause` does, and holds the
// stand-in controller's rollout of it (a paused Deployment rolls nothing out) until the test ends.
func pause(t *testing.T, ns, name string) {
	t.Helper()
	if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(ns).Patch(context.Background(), name, types.MergePatchType,
		[]byte(`{"spec":{"paused":true}}`), metav1.PatchOptions{FieldManager: "kubectl-rollout"}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, name)
	ctrl.Hold(ns, name)
	t.Cleanup(func() { ctrl.Release(ns, name) })
}

// TestAPausedDeploymentIsRefusedBeforeAnyWrite: a stage that would roll a paused Deployment out
// (Blue_Green writing blue's image into green, Blue_0 a new image into blue) used to unroute it,
// write it and wait out --timeout for a rollout the controller never starts. It is refused before
// any write, naming spec.paused and the fix; traffic stays; a re-run refuses again, writing nothing.
func TestAPausedDeploymentIsRefusedBeforeAnyWrite(t *testing.T) {
	for _, c := range []struct {
		name, stage, image, deployment string
	}{
		{"Blue_Green onto a paused green", "Blue_Green", imgB, "model-green"},
		{"Blue_0 with a new image onto a paused blue", "Blue_0", imgC, "model-blue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			newD0().apply(t, f)
			f.stage("Blue_0", imgB)
			f.stage("Blue_100", imgB)
			pause(t, f.ns, c.deployment)
			before, _ := f.live()
			for run := range 2 {
				f.rec.reset()
				cfg := f.cfg(c.stage, c.image)
				cfg.Timeout = 2 * time.Second
				_, err := f.run(cfg)
				_, writes := f.rec.counts()
				if len(writes) > 0 {
					t.Errorf("run %d wrote %v before failing: %v", run+1, writes, err)
				}
				want := "kubectl rollout resume deployment/" + c.deployment + " -n " + f.ns
				if err == nil || !strings.Contains(err.Error(), "is paused (spec.paused: true)") || !strings.Contains(err.Error(), want) {
					t.Errorf("run %d: %v; want a refusal naming spec.paused and %q", run+1, err, want)
				}
				if after, _ := f.live(); !after.Equal(before) {
					t.Errorf("run %d moved traffic from %v to %v", run+1, before, after)
				}
			}
		})
	}
}

// TestAPausedReadyDeploymentStillCarriesTraffic: routing to a paused Deployment that is rolled out
// and current needs no rollout, so Blue_50 and Rollback proceed as usual.
func TestAPausedReadyDeploymentStillCarriesTraffic(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	pause(t, f.ns, "model-blue")
	pause(t, f.ns, "model-green")
	f.stage("Blue_50", imgB)
	f.stage("Rollback", "")
	f.rec.reset()
	f.stage("Rollback", "")
	noWrites(t, f, "re-running Rollback")
}
