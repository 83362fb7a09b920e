package engine_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestBluesAutoscalerCopyIsRemovedWithBlue is G19's case (break-it review of #9): the team drops
// green's HPA mid-release (they move to fixed replicas) and Blue_0 runs again with a new image.
// Blue's copy used to stay — nothing updated or removed it — while the re-rendered blue lost the
// annotation that tells Green_100 to read the autoscalers, so Green_100 removed blue and left
// mlcanary's HPA behind, ready to scale the next release's blue with stale settings. Now that
// Blue_0 removes the copy (green has no autoscaler to copy any more), says so, and the rest of the
// release runs.
func TestBluesAutoscalerCopyIsRemovedWithBlue(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 2, 10))
	f.stage("Blue_0", imgB)
	if !exists(hpaGVR, f.ns, "model-blue") {
		t.Fatal("Blue_0 gave blue no copy")
	}
	if err := env.Dynamic.Resource(hpaGVR).Namespace(f.ns).Delete(context.Background(), "scoring", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	res := f.stage("Blue_0", imgC)
	if exists(hpaGVR, f.ns, "model-blue") {
		t.Error("Blue_0 kept blue's copy of an autoscaler green no longer has")
	}
	if want := "blue's copy of green's autoscaler is removed: green has no autoscaler any more"; !strings.Contains(strings.Join(res.Notes, "\n"), want) {
		t.Errorf("notes %q lack %q", res.Notes, want)
	}
	for _, st := range []string{"Blue_100", "Blue_Green", "Green_100"} {
		f.stage(st, "")
	}
	if exists(hpaGVR, f.ns, "model-blue") {
		t.Errorf("Green_100 removed blue but left mlcanary's HPA copy model-blue behind")
	}
}

// TestBluesCopyGoesWithBlueWhenGreensAutoscalerWentAway: green's HPA is deleted after Blue_0 and
// no Blue_0 runs again: Rollback removes blue and, with it, mlcanary's copy (blue's Deployment still
// says it has one).
func TestBluesCopyGoesWithBlueWhenGreensAutoscalerWentAway(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 2, 10))
	f.stage("Blue_0", imgB)
	f.stage("Blue_50", "")
	if err := env.Dynamic.Resource(hpaGVR).Namespace(f.ns).Delete(context.Background(), "scoring", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.stage("Rollback", "")
	if exists(hpaGVR, f.ns, "model-blue") {
		t.Errorf("Rollback removed blue but left mlcanary's HPA copy model-blue behind")
	}
}
