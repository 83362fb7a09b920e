package testenv

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
)

// ServeModel makes h play the scoring process in every pod of Deployment namespace/name: the
// Controller then does what the kubelet does with each container's readiness probe — an HTTP GET
// of the probe's path, sent to h, is ready when h answers a status from 200 to 399 — and counts
// the Deployment's pods ready only while every container's HTTP readiness probe is. h is the
// readiness signal the test controls (e.g. scoringmock.Handler with ReadyAfter on a clock the test
// moves). A probe on a port the container does not declare never succeeds (the kubelet's
// connection would be refused). A pod template without any readiness probe is ready as soon as the
// Controller sees it, whatever h answers: Kubernetes calls a pod without a readiness probe ready
// once its containers start, loaded model or not. Exec and TCP probes are taken as passing.
// Without ServeModel, a Deployment's probes all pass (every other test's model is loaded at once).
func (c *Controller) ServeModel(namespace, name string, h http.Handler) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.models[namespace+"/"+name] = h
}

// ModelLoadTime makes every Deployment without a model of its own (ServeModel) run serve-model's
// handler with ReadyAfter d: the pods of each new generation (each rollout starts new pods) answer
// their readiness probes 503 for d after the Controller first sees that generation, and 200 after,
// as a real model that takes d to load. 0 (the default) is a model loaded at once. `make demo` uses
// it to show a stage waiting for the model.
func (c *Controller) ModelLoadTime(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loadTime = d
}

// modelOf is the handler that answers d's probes: the one ServeModel registered, else, with a
// ModelLoadTime, the handler of d's current generation's pods (created when first asked), else nil.
func (c *Controller) modelOf(d *unstructured.Unstructured) http.Handler {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := d.GetNamespace() + "/" + d.GetName()
	if h := c.models[key]; h != nil || c.loadTime == 0 {
		return h
	}
	gen := fmt.Sprintf("%s@%d", key, d.GetGeneration())
	if c.generations[gen] == nil {
		c.generations[gen] = scoringmock.Handler(scoringmock.Options{Answer: d.GetName(), ReadyAfter: c.loadTime})
	}
	return c.generations[gen]
}

// Probes counts the readiness probes the Controller has sent to Deployment namespace/name's
// model (ServeModel).
func (c *Controller) Probes(namespace, name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probes[namespace+"/"+name]
}

// probesPass reports whether d's pods pass their readiness probes now (see ServeModel).
func (c *Controller) probesPass(d *unstructured.Unstructured) bool {
	h := c.modelOf(d)
	if h == nil {
		return true
	}
	var typed appsv1.Deployment
	if runtime.DefaultUnstructuredConverter.FromUnstructured(d.Object, &typed) != nil {
		return false
	}
	for _, ct := range typed.Spec.Template.Spec.Containers {
		p := ct.ReadinessProbe
		if p == nil || p.HTTPGet == nil {
			continue
		}
		c.mu.Lock()
		c.probes[d.GetNamespace()+"/"+d.GetName()]++
		c.mu.Unlock()
		if !declaresPort(ct, p.HTTPGet) {
			return false
		}
		path := p.HTTPGet.Path
		if path == "" {
			path = "/"
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code < 200 || rec.Code >= 400 {
			return false
		}
	}
	return true
}

// declaresPort reports whether the probe's port is one the container declares, by number or name.
func declaresPort(ct corev1.Container, get *corev1.HTTPGetAction) bool {
	for _, p := range ct.Ports {
		if (get.Port.StrVal == "" && get.Port.IntVal == p.ContainerPort) || (get.Port.StrVal != "" && get.Port.StrVal == p.Name) {
			return true
		}
	}
	return false
}

// IsProbeUnready reports whether d's status says its current generation's pods all run, updated,
// but none is ready (MarkProbeUnready).
func IsProbeUnready(d *unstructured.Unstructured) bool {
	og, _, _ := unstructured.NestedInt64(d.Object, "status", "observedGeneration")
	want, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	upd, _, _ := unstructured.NestedInt64(d.Object, "status", "updatedReplicas")
	avail, _, _ := unstructured.NestedInt64(d.Object, "status", "availableReplicas")
	unavail, _, _ := unstructured.NestedInt64(d.Object, "status", "unavailableReplicas")
	return og >= d.GetGeneration() && upd == want && avail == 0 && unavail == want
}

// MarkProbeUnready does what the Deployment controller and the kubelet do while every pod of d's
// current generation runs but fails its readiness probe: the pods exist, Running with their
// containers started and not ready (so a stage's messages can name the probe), and d's status has
// all replicas updated, none ready or available, Available=False and Progressing=True (the rollout
// is still within its deadline). It returns the pods' names.
func (e *Env) MarkProbeUnready(ctx context.Context, d *unstructured.Unstructured) ([]string, error) {
	want, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	var names []string
	for i := range max(want, 1) {
		name := fmt.Sprintf("%s-%x-%d", d.GetName(), 0x7e4d0000+d.GetGeneration(), i)
		if err := e.createUnreadyPod(ctx, d, name); err != nil {
			return names, err
		}
		names = append(names, name)
	}
	return names, e.writeUnavailable(ctx, d, want, "True", "ReplicaSetUpdated", "ReplicaSet is progressing.")
}

// createUnreadyPod creates pod name from d's template (each container's name, image, ports and
// readiness probe) with the status of a pod whose containers run and fail their readiness probes;
// an existing pod is reused.
func (e *Env) createUnreadyPod(ctx context.Context, d *unstructured.Unstructured, name string) error {
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	now := time.Now().UTC().Format(time.RFC3339)
	var specs, statuses []any
	for _, c := range containers {
		m, _ := c.(map[string]any)
		spec := map[string]any{}
		for _, k := range []string{"name", "image", "ports", "readinessProbe"} {
			if v, ok := m[k]; ok {
				spec[k] = v
			}
		}
		specs = append(specs, spec)
		statuses = append(statuses, map[string]any{"name": m["name"], "image": m["image"], "imageID": "", "ready": false, "started": true,
			"restartCount": int64(0), "state": map[string]any{"running": map[string]any{"startedAt": now}}})
	}
	return e.putPod(ctx, d, name, specs, map[string]any{"phase": "Running", "conditions": []any{
		map[string]any{"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
		map[string]any{"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now},
	}, "containerStatuses": statuses})
}

// deletePods deletes pods ns/names (once their Deployment is ready they would only mislead).
func (e *Env) deletePods(ctx context.Context, ns string, names []string) {
	for _, n := range names {
		_ = e.Dynamic.Resource(kube.Pods).Namespace(ns).Delete(ctx, n, metav1.DeleteOptions{})
	}
}
