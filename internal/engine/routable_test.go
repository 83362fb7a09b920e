package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// A version is routable when the rollout of its current pod template is complete and at least one
// replica is available (kube.Rollout.Routable): an autoscaler scaling it up — every pod on the
// current template, some pending on new nodes or a full quota — is not a rollout (break-it review
// of #9, G9). Make-before-break still waits for every replica of a template a stage just wrote.

// surgeStatus writes Deployment ns/name's status as the Deployment controller reports an autoscaler's
// scale-up of a completed rollout to want replicas, of which ready are available: every replica of
// the current template (updated), the Progressing condition still NewReplicaSetAvailable (the
// controller keeps it while only the count changes), plus extra conditions (a ReplicaFailure). The
// stand-in controller is held for it, so the status stays.
func surgeStatus(t *testing.T, ns, name string, want, ready int64, progressing string, extra ...map[string]any) {
	t.Helper()
	ctx := context.Background()
	ctrl.Hold(ns, name)
	t.Cleanup(func() { ctrl.Release(ns, name) })
	if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(ns).Patch(ctx, name,
		"application/merge-patch+json", []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, want)), metav1.PatchOptions{FieldManager: "horizontal-pod-autoscaler"}, "scale"); err != nil {
		t.Fatal(err)
	}
	d := get(t, kube.Deployments, ns, name)
	created := want
	conds := []any{map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
		map[string]any{"type": "Progressing", "status": "True", "reason": progressing}}
	for _, c := range extra {
		conds = append(conds, c)
		created = ready // the API server refused the other pods
	}
	d.Object["status"] = map[string]any{"observedGeneration": d.GetGeneration(), "replicas": created, "updatedReplicas": created,
		"readyReplicas": ready, "availableReplicas": ready, "unavailableReplicas": want - ready, "conditions": conds}
	if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestRollbackWhileGreensHPAScalesUp is G9's case: a surge during Blue_50; green's HPA scales green
// from 4 to 6 and 2 pods pend. Rollback used to wait --timeout and fail ("green must be ready, but 4
// of 6 replicas available; there is nothing to roll back to") while blue kept half the traffic. Now
// it moves every request back onto green's 4 ready pods at once.
func TestRollbackWhileGreensHPAScalesUp(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 2, 10))
	scaleTo(t, f.ns, "model-green", "horizontal-pod-autoscaler", 4)
	f.stage("Blue_0", imgB)
	f.stage("Blue_50", "")
	surgeStatus(t, f.ns, "model-green", 6, 4, kube.NewRSAvailableReason)
	c := f.cfg("Rollback", "")
	c.Timeout = 3 * time.Second
	_, err := f.run(c)
	routing, _ := f.live()
	if err != nil || routing.Weights[config.Green] != 100 {
		t.Errorf("Rollback while green's HPA scales green 4→6 (4 ready): err %v, green's weight %d%%; want all traffic back on green's 4 ready pods", err, routing.Weights[config.Green])
	}
}

// TestRollbackWhileAQuotaStopsGreensScaleUp: the same surge, but the namespace's ResourceQuota lets
// no more pods be created (ReplicaFailure FailedCreate). That used to fail every stage at once
// ("its pods cannot be created"); green still serves with its 4 pods, so Rollback goes to it.
func TestRollbackWhileAQuotaStopsGreensScaleUp(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 2, 10))
	scaleTo(t, f.ns, "model-green", "horizontal-pod-autoscaler", 4)
	f.stage("Blue_0", imgB)
	f.stage("Blue_50", "")
	surgeStatus(t, f.ns, "model-green", 6, 4, kube.NewRSAvailableReason, map[string]any{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
		"message": `pods "model-green-7c9-x" is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=4, limited: cpu=4`})
	c := f.cfg("Rollback", "")
	c.Timeout = 3 * time.Second
	_, err := f.run(c)
	routing, _ := f.live()
	if err != nil || routing.Weights[config.Green] != 100 {
		t.Errorf("Rollback while a quota stops green's scale-up at 4: err %v, green's weight %d%%; want all traffic on green", err, routing.Weights[config.Green])
	}
}

// TestBlue100WhileBluesHPAScalesUp: Blue_N and Blue_100 need blue routable, not scaled out: blue's
// copy of green's HPA adds replicas as blue's share grows, and the stage goes on while they start
// (the capacity check warns, as it does for an autoscaled version). A re-run of Blue_0 during the
// surge (its template unchanged) keeps blue's header route and does not wait for the pending pods.
func TestBlue100WhileBluesHPAScalesUp(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 2, 10))
	f.stage("Blue_0", imgB)
	f.stage("Blue_50", "")
	surgeStatus(t, f.ns, "model-blue", 5, 2, kube.NewRSAvailableReason)
	for _, stage := range []string{"Blue_0", "Blue_50", "Blue_100"} {
		c := f.cfg(stage, "")
		if stage == "Blue_0" {
			c.Image = imgB
		}
		c.Timeout = 3 * time.Second
		if _, err := f.run(c); err != nil {
			t.Fatalf("%s while blue's HPA scales blue 2→5 (2 ready): %v", stage, err)
		}
	}
	if routing, _ := f.live(); routing.Weights[config.Blue] != 100 || !routing.Headers[config.Blue] {
		t.Errorf("Blue_100 left blue at %d%%, header route %v", routing.Weights[config.Blue], routing.Headers[config.Blue])
	}
}

// TestAnUnfinishedRolloutIsNotRoutable: make-before-break is unchanged for a rollout of a new
// template. Blue's rollout stopped with 1 of 4 replicas available (the controller's Progressing
// reason ReplicaSetUpdated: the rollout has not completed): Blue_50 does not route to it.
func TestAnUnfinishedRolloutIsNotRoutable(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	f.stage("Blue_0", imgB)
	surgeStatus(t, f.ns, "model-blue", 4, 1, "ReplicaSetUpdated")
	c := f.cfg("Blue_50", "")
	c.Timeout = 2 * time.Second
	_, err := f.run(c)
	if routing, _ := f.live(); err == nil || routing.Weights[config.Blue] != 0 {
		t.Fatalf("Blue_50 onto a rollout with 1 of 4 replicas available: err %v, blue's weight %d%%; want refused, 0%%", err, routing.Weights[config.Blue])
	}
	if !strings.Contains(err.Error(), "1 of 4 replicas available") {
		t.Errorf("refusal does not say how far the rollout is: %v", err)
	}
}

// TestANewTemplateWaitsForEveryReplica: after a stage writes a new pod template, it waits for every
// replica of it, even when the Deployment's status carries a completed-rollout mark (the controller
// leaves NewReplicaSetAvailable in place when a Recreate rollout returns to a ReplicaSet it had
// before): Blue_0 with a new image and blue at 1 of 4 available on that template does not route
// blue, and fails at --timeout.
func TestANewTemplateWaitsForEveryReplica(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	f.stage("Blue_0", imgB)
	ctrl.Hold(f.ns, "model-blue")
	defer ctrl.Release(f.ns, "model-blue")
	c := f.cfg("Blue_0", imgC)
	c.Replicas = 4
	c.Timeout = 4 * time.Second
	done := make(chan error, 1)
	go func() { _, err := f.cl.Stage(context.Background(), c, t.Logf); done <- err }()
	eventually(t, "Blue_0 gave blue its new image", func() bool {
		_, images := f.live()
		return images[config.Blue] == imgC
	})
	d := get(t, kube.Deployments, f.ns, "model-blue")
	d.Object["status"] = map[string]any{"observedGeneration": d.GetGeneration(), "replicas": int64(4), "updatedReplicas": int64(4),
		"readyReplicas": int64(1), "availableReplicas": int64(1), "conditions": []any{
			map[string]any{"type": "Progressing", "status": "True", "reason": kube.NewRSAvailableReason}}}
	if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).UpdateStatus(context.Background(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if routing, _ := f.live(); err == nil || routing.Headers[config.Blue] {
		t.Fatalf("Blue_0 with a new template at 1 available replica: err %v, blue routed by header %v; want it to wait and fail unrouted", err, routing.Headers[config.Blue])
	}
}

// TestAnAutoscalerAtZeroIsNeverRoutable (held in the break-it review of #9, kept with G9's rule):
// KEDA's default minReplicaCount is 0, so blue's copy of green's ScaledObject takes blue to zero
// while it gets header requests only. The Deployment controller's completed-rollout mark stays,
// but a version with no replica is never routable: Blue_50 is refused under every
// --capacity-check mode, nothing routed.
func TestAnAutoscalerAtZeroIsNeverRoutable(t *testing.T) {
	for _, mode := range []config.CapacityCheck{config.CapacityAuto, config.CapacityWarn, config.CapacityOff} {
		t.Run(string(mode), func(t *testing.T) {
			f := newFixture(t)
			f.reach(states[3].path)
			applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 1, 10))
			f.stage("Blue_0", imgB)
			ctx := context.Background()
			if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Patch(ctx, "model-blue",
				"application/merge-patch+json", []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{FieldManager: "keda-operator"}, "scale"); err != nil {
				t.Fatal(err)
			}
			d := get(t, kube.Deployments, f.ns, "model-blue") // the stand-in skips 0 replicas: the controller's status for it
			d.Object["status"] = map[string]any{"observedGeneration": d.GetGeneration(), "conditions": []any{
				map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
				map[string]any{"type": "Progressing", "status": "True", "reason": kube.NewRSAvailableReason}}}
			if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			c := f.cfg("Blue_50", "")
			c.CapacityCheck = mode
			_, err := f.run(c)
			if routing, _ := f.live(); err == nil || routing.Weights[config.Blue] != 0 {
				t.Fatalf("Blue_50 with blue at 0 replicas: err %v, blue's weight %d%% (want refused, 0%%)", err, routing.Weights[config.Blue])
			}
			if !strings.Contains(err.Error(), "scaled to 0 replicas") {
				t.Errorf("refusal does not name blue's 0 replicas: %v", err)
			}
		})
	}
}
