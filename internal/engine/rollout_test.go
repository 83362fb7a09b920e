package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// failFast is the most a stage may take to notice a failed rollout, against a --timeout of 60s:
// the stage must judge the Deployment controller's verdict, not wait the timeout out.
const failFast = 5 * time.Second

// TestFailedRolloutFailsTheStageAtOnce: the Deployment controller declares blue's rollout failed
// (Progressing=False, ProgressDeadlineExceeded) while its pods cannot start for one of the usual
// reasons. Blue_0 fails at once with the controller's reason and the pods' reason, writes no route
// to blue and leaves green and the VirtualService untouched; Blue_50 afterwards refuses at once
// with the same reasons and writes nothing; once blue is fixed, Blue_0 finishes.
func TestFailedRolloutFailsTheStageAtOnce(t *testing.T) {
	cases := []struct {
		name string
		pod  testenv.PodProblem
		want string
	}{
		{"ImagePullBackOff", testenv.ImagePullBackOff(imgC),
			`container model: ImagePullBackOff (Back-off pulling image "` + imgC + `")`},
		{"CrashLoopBackOff", testenv.CrashLoopBackOff("OOMKilled", 137),
			"container model: CrashLoopBackOff (last exit: OOMKilled, code 137; 5 restarts)"},
		{"Unschedulable", testenv.Unschedulable("0/3 nodes are available: 3 Insufficient cpu."),
			"Unschedulable (0/3 nodes are available: 3 Insufficient cpu.)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach(states[3].path) // green
			vsBefore := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
			greenBefore := get(t, kube.Deployments, f.ns, "model-green")
			ctrl.Fail(f.ns, "model-blue", tc.pod)
			defer ctrl.Release(f.ns, "model-blue")

			c := f.cfg("Blue_0", imgC)
			c.Timeout = time.Minute
			start := time.Now()
			_, err := f.run(c)
			took, sinceFailed := time.Since(start), time.Since(ctrl.FailedAt(f.ns, "model-blue"))
			t.Logf("Blue_0 failed %s after it started, %s after the controller declared the rollout failed", took.Round(time.Millisecond), sinceFailed.Round(time.Millisecond))
			if err == nil {
				t.Fatal("Blue_0 with a failed rollout succeeded")
			}
			if took > failFast {
				t.Errorf("Blue_0 took %s to notice a failed rollout (timeout 1m)", took)
			}
			for _, want := range []string{
				"Deployment " + f.ns + "/model-blue did not become ready: its rollout failed: the Deployment controller reports ProgressDeadlineExceeded (ReplicaSet",
				"has timed out progressing); pod model-blue-", tc.want,
			} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Blue_0's error lacks %q:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Blue_0's error is not one line:\n%v", err)
			}
			vsAfter := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
			if vsAfter.GetResourceVersion() != vsBefore.GetResourceVersion() {
				t.Errorf("the VirtualService was written although blue never became ready")
			}
			if routing, _ := f.live(); routing.Weights[config.Green] != 100 || routing.References(config.Blue) {
				t.Errorf("after the failed rollout, routing %+v, want green 100%% and no route to blue", routing)
			}
			if g := get(t, kube.Deployments, f.ns, "model-green"); g.GetGeneration() != greenBefore.GetGeneration() {
				t.Errorf("green's Deployment changed: generation %d → %d", greenBefore.GetGeneration(), g.GetGeneration())
			}

			// A later stage that needs blue refuses at once instead of waiting for it again.
			c50 := f.cfg("Blue_50", "")
			c50.Timeout = time.Minute
			f.rec.reset()
			start = time.Now()
			_, err = f.run(c50)
			if took := time.Since(start); took > failFast {
				t.Errorf("Blue_50 took %s to refuse a failed blue (timeout 1m)", took)
			}
			for _, want := range []string{"Blue_50: blue (Deployment " + f.ns + "/model-blue) must be ready, but its rollout failed: the Deployment controller reports ProgressDeadlineExceeded", "; Blue_0 deploys it; pod model-blue-", tc.want} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Blue_50 after a failed Blue_0 lacks %q: %v", want, err)
				}
			}
			if _, writes := f.rec.counts(); len(writes) != 0 {
				t.Errorf("Blue_50 with a failed blue wrote %v", writes)
			}

			ctrl.Release(f.ns, "model-blue")
			eventually(t, "blue rolled out after the fix", func() bool {
				return testenv.IsRolledOut(get(t, kube.Deployments, f.ns, "model-blue"))
			})
			f.stage("Blue_0", imgC)
			if routing, _ := f.live(); !routing.Headers[config.Blue] || routing.Weights[config.Green] != 100 {
				t.Errorf("after the fixed re-run, routing %+v", routing)
			}
		})
	}
}

// TestFailedRolloutWithoutPodAccess: the documented Role has no access to pods; a failed rollout
// still fails at once with the controller's reason, and the forbidden pod list is not mentioned.
func TestFailedRolloutWithoutPodAccess(t *testing.T) {
	f := newFixture(t)
	cl := documentedRoleClient(t, f)
	ctrl.Fail(f.ns, "model-blue", testenv.ImagePullBackOff(imgC))
	defer ctrl.Release(f.ns, "model-blue")
	c := f.cfg("Blue_0", imgC)
	c.Timeout = time.Minute
	start := time.Now()
	_, err := cl.Stage(context.Background(), c, t.Logf)
	if took := time.Since(start); took > failFast {
		t.Errorf("Blue_0 took %s to notice a failed rollout", took)
	}
	if err == nil || !strings.Contains(err.Error(), "ProgressDeadlineExceeded") || strings.Contains(err.Error(), "; pod ") || strings.Contains(err.Error(), "forbidden") {
		t.Errorf("Blue_0 without access to pods: %v", err)
	}
	if routing, _ := f.live(); routing.References(config.Blue) {
		t.Errorf("a route to the failed blue: %+v", routing)
	}
}

// eventually polls cond for up to 10s and fails the test, naming what, when it never holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// TestFailedRolloutOfGreenKeepsBlue: Blue_Green gives green blue's image after unrouting green;
// when that rollout fails, the stage fails at once and blue keeps all traffic.
func TestFailedRolloutOfGreenKeepsBlue(t *testing.T) {
	f := newFixture(t)
	f.reach(states[6].path) // Blue_100
	blueBefore := get(t, kube.Deployments, f.ns, "model-blue")
	ctrl.Fail(f.ns, "model-green", testenv.CrashLoopBackOff("Error", 1))
	defer ctrl.Release(f.ns, "model-green")
	c := f.cfg("Blue_Green", "")
	c.Timeout = time.Minute
	start := time.Now()
	_, err := f.run(c)
	if took := time.Since(start); took > failFast {
		t.Errorf("Blue_Green took %s to notice green's failed rollout (timeout 1m)", took)
	}
	want := "Deployment " + f.ns + "/model-green did not become ready: its rollout failed: the Deployment controller reports ProgressDeadlineExceeded"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "container model: CrashLoopBackOff (last exit: Error, code 1; 5 restarts)") {
		t.Fatalf("Blue_Green with a failing green: %v", err)
	}
	if routing, _ := f.live(); routing.Weights[config.Blue] != 100 || routing.References(config.Green) {
		t.Errorf("after green's failed rollout: %+v, want blue 100%% and no route to green", routing)
	}
	if b := get(t, kube.Deployments, f.ns, "model-blue"); b.GetGeneration() != blueBefore.GetGeneration() {
		t.Errorf("blue's Deployment changed")
	}
}

// TestWaitingDecisionStopsWhenTheRolloutFails: Blue_50 finds blue's rollout in progress (someone
// changed its Deployment) and waits for it before deciding; when the controller declares that
// rollout failed, Blue_50 refuses at once, writing nothing, instead of waiting out its timeout.
func TestWaitingDecisionStopsWhenTheRolloutFails(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // Blue_0
	ctrl.Hold(f.ns, "model-blue")
	defer ctrl.Release(f.ns, "model-blue")
	applyAs(t, "kubectl-rollout-restart", kube.Deployments, f.ns, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "model-blue"},
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"annotations": map[string]any{
			"kubectl.kubernetes.io/restartedAt": "2026-11-29T11:00:00Z"}}}}})
	c := f.cfg("Blue_50", "")
	c.Timeout = time.Minute
	f.rec.reset()
	done := make(chan error, 1)
	go func() { _, err := f.cl.Stage(context.Background(), c, t.Logf); done <- err }()
	time.Sleep(300 * time.Millisecond) // Blue_50 is waiting for blue's rollout
	ctrl.Fail(f.ns, "model-blue", testenv.ImagePullBackOff(imgB))
	var err error
	select {
	case err = <-done:
	case <-time.After(failFast + time.Second):
		t.Fatal("Blue_50 kept waiting for a failed rollout")
	}
	if since := time.Since(ctrl.FailedAt(f.ns, "model-blue")); since > failFast {
		t.Errorf("Blue_50 noticed the failure %s after it was declared", since)
	}
	if err == nil || !strings.Contains(err.Error(), "must be ready, but its rollout failed: the Deployment controller reports ProgressDeadlineExceeded") ||
		!strings.Contains(err.Error(), "ImagePullBackOff") {
		t.Errorf("Blue_50 after blue's rollout failed while it waited: %v", err)
	}
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("Blue_50 wrote %v", writes)
	}
}

// TestWatchNoticesAtOnce: with polls a minute apart, a stage still notices a finished rollout and
// a failed one at once, because it watches the Deployment (as kubectl rollout status does).
func TestWatchNoticesAtOnce(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path) // green
	f.cl.PollInterval = time.Minute
	c := f.cfg("Blue_0", imgB)
	c.Timeout = 2 * time.Minute
	start := time.Now()
	f.rec.reset()
	if _, err := f.run(c); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > failFast {
		t.Errorf("Blue_0 took %s with polls a minute apart: the watch did not wake it", took)
	}
	ctrl.Fail(f.ns, "model-blue", testenv.ImagePullBackOff(imgC))
	defer ctrl.Release(f.ns, "model-blue")
	c.Image = imgC
	start = time.Now()
	if _, err := f.run(c); err == nil || !strings.Contains(err.Error(), "ProgressDeadlineExceeded") {
		t.Fatalf("Blue_0 with a failing image: %v", err)
	}
	if took := time.Since(start); took > failFast {
		t.Errorf("Blue_0 took %s to notice a failed rollout with polls a minute apart", took)
	}
}
