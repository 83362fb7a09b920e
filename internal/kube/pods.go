package kube

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Pods is read only to explain a rollout that does not finish. `list` on pods is optional in the
// credentials' Role: without it the messages just say less.
var Pods = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

const (
	// maxPodLines bounds how many problems a message names; pods sharing one are counted together.
	maxPodLines = 3
	// podListTimeout bounds the optional pod list, so explaining a failure never delays it long.
	podListTimeout = 5 * time.Second
)

// PodProblems lists the pods Deployment d selects and returns why they are not running, one line
// per distinct problem (at most 3), e.g.
//
//	pod model-blue-5d9c-x2x: container model: ImagePullBackOff (Back-off pulling image "r/m:9")
//	pod model-blue-5d9c-x2x and 2 more: container model: CrashLoopBackOff (last exit: Error, code 1; 4 restarts)
//	pod model-blue-5d9c-x2x: Unschedulable (0/3 nodes are available: 3 Insufficient cpu.)
//
// It answers nil when there is nothing to say or the pods cannot be listed (forbidden, or any
// other error): the lines only improve messages, so a failure here is never reported.
func (c *Client) PodProblems(ctx context.Context, d *unstructured.Unstructured) []string {
	if d == nil {
		return nil
	}
	sel, _, _ := unstructured.NestedMap(d.Object, "spec", "selector")
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(sel, &ls); err != nil {
		return nil
	}
	selector, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil || selector.Empty() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, podListTimeout)
	defer cancel()
	list, err := c.dyn.Resource(Pods).Namespace(d.GetNamespace()).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil
	}
	return PodProblemLines(list.Items)
}

// PodProblemLines is PodProblems' pure part: the problems of pods, in their order, one line per
// distinct problem, at most 3.
func PodProblemLines(pods []unstructured.Unstructured) []string {
	type problem struct {
		pod   string
		more  int
		about string
	}
	var found []*problem
	seen := map[string]*problem{}
	for i := range pods {
		for _, about := range podProblems(&pods[i]) {
			if p := seen[about]; p != nil {
				p.more++
				continue
			}
			p := &problem{pod: pods[i].GetName(), about: about}
			seen[about] = p
			found = append(found, p)
		}
	}
	var lines []string
	for _, p := range found[:min(len(found), maxPodLines)] {
		who := "pod " + p.pod
		if p.more > 0 {
			who += fmt.Sprintf(" and %d more", p.more)
		}
		lines = append(lines, who+": "+p.about)
	}
	if extra := len(found) - maxPodLines; extra > 0 {
		lines = append(lines, fmt.Sprintf("%d more problems (kubectl describe pods)", extra))
	}
	return lines
}

// podProblems says why one pod is not running or not ready: containers waiting for a reason other
// than being started, a running container its readiness probe keeps out of the Service (notReady),
// and the scheduler's verdict when it cannot place the pod.
func podProblems(pod *unstructured.Unstructured) []string {
	var out []string
	if reason, message := podCondition(pod, "PodScheduled"); reason == "Unschedulable" {
		out = append(out, withMessage("Unschedulable", message))
	}
	for _, kind := range []string{"initContainerStatuses", "containerStatuses"} {
		statuses, _, _ := unstructured.NestedSlice(pod.Object, "status", kind)
		for _, s := range statuses {
			m, _ := s.(map[string]any)
			line := containerProblem(m)
			if line == "" && kind == "containerStatuses" {
				line = notReady(pod, m)
			}
			if line != "" {
				out = append(out, line)
			}
		}
	}
	return out
}

// notReady describes a container that runs but is not ready while it has a readiness probe: the
// probe has not passed yet, which for a model server usually means the model is still loading
// (README, "Readiness: traffic only once the model answers"), e.g.
//
//	container model: running, not ready: readiness probe GET / on port 5001 not passing (a model still loading fails it)
func notReady(pod *unstructured.Unstructured, st map[string]any) string {
	name, _, _ := unstructured.NestedString(st, "name")
	_, running, _ := unstructured.NestedMap(st, "state", "running")
	if ready, _, _ := unstructured.NestedBool(st, "ready"); ready || !running {
		return ""
	}
	containers, _, _ := unstructured.NestedSlice(pod.Object, "spec", "containers")
	for _, c := range containers {
		m, _ := c.(map[string]any)
		if n, _, _ := unstructured.NestedString(m, "name"); n != name {
			continue
		}
		probe, found, _ := unstructured.NestedMap(m, "readinessProbe")
		if !found {
			return ""
		}
		return "container " + name + ": running, not ready: readiness probe " + describeProbe(probe) + " not passing (a model still loading fails it)"
	}
	return ""
}

// describeProbe names what a probe checks: "GET /ready on port 5001", "TCP port 5001", "exec cat /tmp/ready".
func describeProbe(p map[string]any) string {
	if get, ok := p["httpGet"].(map[string]any); ok {
		path, _ := get["path"].(string)
		if path == "" {
			path = "/"
		}
		return fmt.Sprintf("GET %s on port %v", oneLine(path, 100), get["port"])
	}
	if tcp, ok := p["tcpSocket"].(map[string]any); ok {
		return fmt.Sprintf("TCP port %v", tcp["port"])
	}
	if cmd, _, _ := unstructured.NestedStringSlice(p, "exec", "command"); len(cmd) > 0 {
		return "exec " + oneLine(strings.Join(cmd, " "), 100)
	}
	if g, ok := p["grpc"].(map[string]any); ok {
		return fmt.Sprintf("gRPC port %v", g["port"])
	}
	return "(of an unknown kind)"
}

// containerProblem describes a container status that is waiting for a reason worth naming.
func containerProblem(st map[string]any) string {
	reason, _, _ := unstructured.NestedString(st, "state", "waiting", "reason")
	message, _, _ := unstructured.NestedString(st, "state", "waiting", "message")
	if reason == "" || reason == "ContainerCreating" || reason == "PodInitializing" {
		return ""
	}
	name, _, _ := unstructured.NestedString(st, "name")
	line := "container " + name + ": "
	if reason != "CrashLoopBackOff" {
		return line + withMessage(reason, message)
	}
	// The kubelet's back-off message only repeats the pod's name; the last exit says why.
	last, _, _ := unstructured.NestedMap(st, "lastState", "terminated")
	detail := []string{}
	if r, _, _ := unstructured.NestedString(last, "reason"); r != "" {
		code, _, _ := unstructured.NestedInt64(last, "exitCode")
		detail = append(detail, fmt.Sprintf("last exit: %s, code %d", r, code))
	}
	if m, _, _ := unstructured.NestedString(last, "message"); m != "" {
		detail = append(detail, oneLine(m, 200))
	}
	if n, _, _ := unstructured.NestedInt64(st, "restartCount"); n > 0 {
		detail = append(detail, fmt.Sprintf("%d restarts", n))
	}
	return line + withMessage(reason, strings.Join(detail, "; "))
}

func podCondition(pod *unstructured.Unstructured, typ string) (reason, message string) {
	conds, _, _ := unstructured.NestedSlice(pod.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if t, _, _ := unstructured.NestedString(m, "type"); t == typ {
			if s, _, _ := unstructured.NestedString(m, "status"); s == "False" {
				reason, _, _ = unstructured.NestedString(m, "reason")
				message, _, _ = unstructured.NestedString(m, "message")
			}
			return reason, message
		}
	}
	return "", ""
}

func withMessage(reason, message string) string {
	if message = oneLine(message, 200); message == "" {
		return reason
	}
	return reason + " (" + message + ")"
}

// oneLine turns s into one line of at most n runes: control characters become spaces, runs of
// spaces collapse, and a cut is marked with "…".
func oneLine(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
