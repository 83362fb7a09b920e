package kube

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func deployment(generation int64, status map[string]any, progressing ...string) *unstructured.Unstructured {
	d := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"replicas": int64(2)}, "status": status}}
	d.SetGeneration(generation)
	if len(progressing) == 3 {
		status["conditions"] = []any{map[string]any{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
			map[string]any{"type": "Progressing", "status": progressing[0], "reason": progressing[1], "message": progressing[2]}}
	}
	return d
}

func counts(observed, replicas, updated, available int64) map[string]any {
	return map[string]any{"observedGeneration": observed, "replicas": replicas, "updatedReplicas": updated, "availableReplicas": available}
}

// TestRolloutOfJudgesAsKubectl: the cases of kubectl's DeploymentStatusViewer, in its order.
func TestRolloutOfJudgesAsKubectl(t *testing.T) {
	timedOut := []string{"False", TimedOutReason, "ReplicaSet \"m-5d\" has timed out progressing."}
	cases := []struct {
		name string
		d    *unstructured.Unstructured
		want Rollout
	}{
		{"missing", nil, Rollout{Reason: "the Deployment does not exist"}},
		{"not observed yet: a stale failure does not count", deployment(3, counts(2, 2, 2, 0), timedOut...),
			Rollout{Exists: true, Wanted: 2, Unobserved: true, Reason: "the controller has not seen the latest spec yet"}},
		{"progress deadline exceeded", deployment(3, counts(3, 2, 2, 0), timedOut...),
			Rollout{Exists: true, Failed: true, Wanted: 2, Reason: `its rollout failed: the Deployment controller reports ProgressDeadlineExceeded (ReplicaSet "m-5d" has timed out progressing)`}},
		{"progressing, not failed", deployment(3, counts(3, 2, 1, 1), "True", "ReplicaSetUpdated", "ReplicaSet \"m-5d\" is progressing."),
			Rollout{Exists: true, Wanted: 2, Available: 1, Reason: "1 of 2 replicas updated"}},
		{"old replicas left", deployment(3, counts(3, 3, 2, 2)), Rollout{Exists: true, Wanted: 2, Available: 2, Reason: "1 old replicas are still terminating"}},
		{"updated but not available", deployment(3, counts(3, 2, 2, 1)), Rollout{Exists: true, Wanted: 2, Available: 1, Reason: "1 of 2 replicas available"}},
		{"done", deployment(3, counts(3, 2, 2, 2), "True", "NewReplicaSetAvailable", ""), Rollout{Exists: true, Done: true, Routable: true, Wanted: 2, Available: 2}},
	}
	for _, tc := range cases {
		if got := RolloutOf(tc.d); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	zero := deployment(1, counts(1, 0, 0, 0))
	zero.Object["spec"] = map[string]any{"replicas": int64(0)}
	if r := RolloutOf(zero); r.Done || r.Failed || !strings.Contains(r.Reason, "scaled to 0") {
		t.Errorf("scaled to 0: %+v (kubectl calls it done; mlcanary never routes to it)", r)
	}
}

func pod(name string, status map[string]any) unstructured.Unstructured {
	p := unstructured.Unstructured{Object: map[string]any{"status": status}}
	p.SetName(name)
	return p
}

func waiting(reason, message string) map[string]any {
	return map[string]any{"containerStatuses": []any{map[string]any{"name": "model",
		"state": map[string]any{"waiting": map[string]any{"reason": reason, "message": message}}}}}
}

// TestPodProblemLines: one line per distinct problem, pods sharing one counted, at most three,
// starting containers not a problem, messages made one short line.
func TestPodProblemLines(t *testing.T) {
	crash := map[string]any{"containerStatuses": []any{map[string]any{"name": "model", "restartCount": int64(4),
		"state":     map[string]any{"waiting": map[string]any{"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container=model pod=m-1"}},
		"lastState": map[string]any{"terminated": map[string]any{"reason": "Error", "exitCode": int64(1), "message": "Traceback:\n  KeyError: 'MODEL_PATH'"}}}}}
	unschedulable := map[string]any{"conditions": []any{map[string]any{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
		"message": "0/3 nodes are available: 3 Insufficient cpu."}}}
	pods := []unstructured.Unstructured{
		pod("m-1", waiting("ImagePullBackOff", `Back-off pulling image "r/m:9"`)),
		pod("m-2", waiting("ImagePullBackOff", `Back-off pulling image "r/m:9"`)),
		pod("m-3", waiting("ContainerCreating", "")),
		pod("m-4", waiting("ImagePullBackOff", `Back-off pulling image "r/m:9"`)),
		pod("m-5", crash),
		pod("m-6", unschedulable),
	}
	want := []string{
		`pod m-1 and 2 more: container model: ImagePullBackOff (Back-off pulling image "r/m:9")`,
		`pod m-5: container model: CrashLoopBackOff (last exit: Error, code 1; Traceback: KeyError: 'MODEL_PATH'; 4 restarts)`,
		`pod m-6: Unschedulable (0/3 nodes are available: 3 Insufficient cpu.)`,
	}
	if got := PodProblemLines(pods); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	var many []unstructured.Unstructured
	for i := range 5 {
		many = append(many, pod(fmt.Sprintf("m-%d", i), waiting("CreateContainerConfigError", fmt.Sprintf("secret \"s%d\" not found\n", i)+strings.Repeat("x", 300))))
	}
	got := PodProblemLines(many)
	if len(got) != 4 || got[3] != "2 more problems (kubectl describe pods)" || strings.Contains(got[0], "\n") || len([]rune(got[0])) > 260 {
		t.Errorf("five distinct long problems: %q", got)
	}
	if got := PodProblemLines([]unstructured.Unstructured{pod("m-1", waiting("ContainerCreating", ""))}); got != nil {
		t.Errorf("a starting pod is no problem: %q", got)
	}
}

// TestPodProblemLinesNotReady: a running container that is not ready is named with the readiness
// probe that keeps it out (HTTP, TCP, exec, gRPC); without a probe, or once ready, it is no problem.
func TestPodProblemLinesNotReady(t *testing.T) {
	running := func(ready bool, probe map[string]any) unstructured.Unstructured {
		ct := map[string]any{"name": "model", "image": "m:1"}
		if probe != nil {
			ct["readinessProbe"] = probe
		}
		p := pod("m-1", map[string]any{"phase": "Running", "containerStatuses": []any{map[string]any{"name": "model", "ready": ready,
			"state": map[string]any{"running": map[string]any{"startedAt": "2026-11-29T12:00:00Z"}}}}})
		p.Object["spec"] = map[string]any{"containers": []any{ct}}
		return p
	}
	for _, tc := range []struct {
		name string
		pod  unstructured.Unstructured
		want []string
	}{
		{"HTTP probe", running(false, map[string]any{"httpGet": map[string]any{"path": "/", "port": int64(5001)}}),
			[]string{"pod m-1: container model: running, not ready: readiness probe GET / on port 5001 not passing (a model still loading fails it)"}},
		{"named port", running(false, map[string]any{"httpGet": map[string]any{"path": "/health/ready", "port": "http"}}),
			[]string{"pod m-1: container model: running, not ready: readiness probe GET /health/ready on port http not passing (a model still loading fails it)"}},
		{"TCP probe", running(false, map[string]any{"tcpSocket": map[string]any{"port": int64(5001)}}),
			[]string{"pod m-1: container model: running, not ready: readiness probe TCP port 5001 not passing (a model still loading fails it)"}},
		{"exec probe", running(false, map[string]any{"exec": map[string]any{"command": []any{"cat", "/tmp/ready"}}}),
			[]string{"pod m-1: container model: running, not ready: readiness probe exec cat /tmp/ready not passing (a model still loading fails it)"}},
		{"gRPC probe", running(false, map[string]any{"grpc": map[string]any{"port": int64(5001)}}),
			[]string{"pod m-1: container model: running, not ready: readiness probe gRPC port 5001 not passing (a model still loading fails it)"}},
		{"ready", running(true, map[string]any{"httpGet": map[string]any{"path": "/", "port": int64(5001)}}), nil},
		{"no probe", running(false, nil), nil},
	} {
		if got := PodProblemLines([]unstructured.Unstructured{tc.pod}); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestRolloutOfReadsTheTypedDeployment: RolloutOf converts the live object once and judges the
// typed struct; an object the conversion refuses (a field of the wrong type, which the API server
// never returns) is not ready and says why, and a nil typed Deployment does not exist.
func TestRolloutOfReadsTheTypedDeployment(t *testing.T) {
	bad := deployment(1, counts(1, 1, 1, 1))
	bad.Object["spec"] = map[string]any{"replicas": "two"}
	bad.SetName("model-blue")
	if r := RolloutOf(bad); !r.Exists || r.Done || !strings.Contains(r.Reason, "reading Deployment /model-blue") {
		t.Errorf("a Deployment whose replicas are a string: %+v", r)
	}
	if r := DeploymentRollout(nil); r.Exists || r.Done {
		t.Errorf("DeploymentRollout(nil) = %+v", r)
	}
	d, err := DeploymentOf(deployment(2, counts(2, 2, 2, 2)))
	if err != nil || *d.Spec.Replicas != 2 || d.Status.AvailableReplicas != 2 || d.Generation != 2 {
		t.Errorf("DeploymentOf = %+v, %v", d, err)
	}
}
