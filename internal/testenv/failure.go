package testenv

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// PodProblem is how the pods of a failed rollout fail, as the kubelet and the scheduler report it.
type PodProblem struct {
	// Waiting and Message are the scoring container's waiting reason and message.
	Waiting, Message string
	// LastExit and ExitCode are the container's last termination (with CrashLoopBackOff), Restarts
	// its restart count.
	LastExit           string
	ExitCode, Restarts int64
	// Unschedulable is the scheduler's message for a pod it cannot place; no container starts.
	Unschedulable string
}

// ImagePullBackOff is a pod whose image cannot be pulled.
func ImagePullBackOff(image string) PodProblem {
	return PodProblem{Waiting: "ImagePullBackOff", Message: fmt.Sprintf("Back-off pulling image %q", image)}
}

// CrashLoopBackOff is a pod whose container keeps exiting with reason and code.
func CrashLoopBackOff(reason string, code int64) PodProblem {
	return PodProblem{Waiting: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container", LastExit: reason, ExitCode: code, Restarts: 5}
}

// Unschedulable is a pod no node can take, with the scheduler's message.
func Unschedulable(message string) PodProblem { return PodProblem{Unschedulable: message} }

// FailRollout does what the Deployment controller, the scheduler and the kubelet do when a
// rollout of d's current generation never becomes ready: it creates d's pods in the state pod
// describes, and writes d's status with Progressing=False, reason ProgressDeadlineExceeded, and
// Available=False.
func (e *Env) FailRollout(ctx context.Context, d *unstructured.Unstructured, pod PodProblem) error {
	want, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	rs := fmt.Sprintf("%s-%x", d.GetName(), 0x5d9c0000+d.GetGeneration())
	for i := range max(want, 1) {
		if err := e.createPod(ctx, d, fmt.Sprintf("%s-%d", rs, i), pod); err != nil {
			return err
		}
	}
	return e.writeUnavailable(ctx, d, want, "False", kube.TimedOutReason, fmt.Sprintf("ReplicaSet %q has timed out progressing.", rs))
}

// writeUnavailable writes d's status as the Deployment controller does for a current generation
// whose want pods all exist and none is available: every replica updated and unavailable,
// Available=False (MinimumReplicasUnavailable), and Progressing with the given status, reason and
// message (True/ReplicaSetUpdated while within the deadline, False/ProgressDeadlineExceeded after).
func (e *Env) writeUnavailable(ctx context.Context, d *unstructured.Unstructured, want int64, progressing, reason, message string) error {
	now := time.Now().UTC().Format(time.RFC3339)
	d = d.DeepCopy()
	d.Object["status"] = map[string]any{
		"observedGeneration":  d.GetGeneration(),
		"replicas":            want,
		"updatedReplicas":     want,
		"unavailableReplicas": want,
		"conditions": []any{
			map[string]any{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
				"message": "Deployment does not have minimum availability.", "lastUpdateTime": now, "lastTransitionTime": now},
			map[string]any{"type": "Progressing", "status": progressing, "reason": reason,
				"message": message, "lastUpdateTime": now, "lastTransitionTime": now},
		},
	}
	_, err := e.Dynamic.Resource(kube.Deployments).Namespace(d.GetNamespace()).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	return err
}

// IsFailed reports whether d's status says its current generation's rollout failed: the
// controller observed that generation and set Progressing=False with reason
// ProgressDeadlineExceeded. It reads the raw status itself (not kube.RolloutOf, the judgement
// under test).
func IsFailed(d *unstructured.Unstructured) bool {
	og, _, _ := unstructured.NestedInt64(d.Object, "status", "observedGeneration")
	if og < d.GetGeneration() {
		return false
	}
	conds, _, _ := unstructured.NestedSlice(d.Object, "status", "conditions")
	for _, x := range conds {
		c, _ := x.(map[string]any)
		if c["type"] == "Progressing" && c["status"] == "False" && c["reason"] == "ProgressDeadlineExceeded" {
			return true
		}
	}
	return false
}

// createPod creates pod name from d's template and sets its status to p (an existing pod is
// reused, so a test may fail the same generation again).
func (e *Env) createPod(ctx context.Context, d *unstructured.Unstructured, name string, p PodProblem) error {
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	var specs, statuses []any
	for _, c := range containers {
		m, _ := c.(map[string]any)
		cname, _, _ := unstructured.NestedString(m, "name")
		image, _, _ := unstructured.NestedString(m, "image")
		specs = append(specs, map[string]any{"name": cname, "image": image})
		statuses = append(statuses, containerStatus(cname, image, p))
	}
	now := time.Now().UTC().Format(time.RFC3339)
	status := map[string]any{"phase": "Pending", "conditions": []any{
		map[string]any{"type": "PodScheduled", "status": "True", "lastTransitionTime": now}}, "containerStatuses": statuses}
	if p.Unschedulable != "" {
		status = map[string]any{"phase": "Pending", "conditions": []any{map[string]any{"type": "PodScheduled", "status": "False",
			"reason": "Unschedulable", "message": p.Unschedulable, "lastTransitionTime": now}}}
	} else if p.LastExit != "" {
		status["phase"] = "Running"
	}
	return e.putPod(ctx, d, name, specs, status)
}

// putPod creates pod name of d's namespace, with d's pod labels and the given containers (an
// existing pod is reused), and writes status as the kubelet would.
func (e *Env) putPod(ctx context.Context, d *unstructured.Unstructured, name string, containers []any, status map[string]any) error {
	labels, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": d.GetNamespace(), "labels": toAnyMap(labels)},
		"spec":     map[string]any{"containers": containers, "automountServiceAccountToken": false}}}
	pods := e.Dynamic.Resource(kube.Pods).Namespace(d.GetNamespace())
	created, err := pods.Create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = pods.Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("creating pod %s/%s: %w", d.GetNamespace(), name, err)
	}
	created.Object["status"] = status
	if _, err := pods.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("setting the status of pod %s/%s: %w", d.GetNamespace(), name, err)
	}
	return nil
}

func containerStatus(name, image string, p PodProblem) map[string]any {
	st := map[string]any{"name": name, "image": image, "imageID": "", "ready": false, "started": false, "restartCount": p.Restarts,
		"state": map[string]any{"waiting": map[string]any{"reason": p.Waiting, "message": p.Message}}}
	if p.LastExit != "" {
		now := time.Now().UTC().Format(time.RFC3339)
		st["lastState"] = map[string]any{"terminated": map[string]any{"reason": p.LastExit, "exitCode": p.ExitCode,
			"startedAt": now, "finishedAt": now}}
	}
	return st
}

func toAnyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
