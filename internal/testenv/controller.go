package testenv

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// Controller stands in for kube-controller-manager and the kubelet: it marks every Deployment
// rolled out and available shortly after each change, except those a test holds back or fails
// and those whose pods fail their readiness probes (ServeModel): it marks those unready, and ready
// once the probes pass.
type Controller struct {
	env  *Env
	mu   sync.Mutex
	hold map[string]bool
	// fail holds the Deployments whose rollouts fail (Fail), and failedAt when each last did.
	fail     map[string]PodProblem
	failedAt map[string]time.Time
	// models answer the readiness probes of a Deployment's pods (ServeModel); probes counts them.
	models map[string]http.Handler
	probes map[string]int
	// loadTime and generations: ModelLoadTime's model per Deployment generation.
	loadTime    time.Duration
	generations map[string]http.Handler
	// unreadyPods are the pods MarkProbeUnready created per Deployment, deleted once it is ready.
	unreadyPods map[string][]string
}

// StartController runs a Controller until the test ends.
func (e *Env) StartController(t testing.TB) *Controller {
	ctx, cancel := context.WithCancel(context.Background())
	c, done := e.RunController(ctx)
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// RunController runs a Controller until ctx ends; done closes when it has stopped.
func (e *Env) RunController(ctx context.Context) (*Controller, <-chan struct{}) {
	c := &Controller{env: e, hold: map[string]bool{}, fail: map[string]PodProblem{}, failedAt: map[string]time.Time{},
		models: map[string]http.Handler{}, probes: map[string]int{}, generations: map[string]http.Handler{},
		unreadyPods: map[string][]string{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				c.sync(ctx)
			}
		}
	}()
	return c, done
}

// Hold keeps Deployment namespace/name unready (as if its pods never passed readiness) until Release.
func (c *Controller) Hold(namespace, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold[namespace+"/"+name] = true
}

// Release lets the Controller mark namespace/name ready again (also after Fail).
func (c *Controller) Release(namespace, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.hold, namespace+"/"+name)
	delete(c.fail, namespace+"/"+name)
}

// Fail makes every rollout of Deployment namespace/name fail until Release, the way the real
// controller reports a rollout whose pods never become ready once progressDeadlineSeconds passed
// (here: as soon as it sees the generation): FailRollout with pod, at most once per generation.
func (c *Controller) Fail(namespace, name string, pod PodProblem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold[namespace+"/"+name] = true
	c.fail[namespace+"/"+name] = pod
}

// FailedAt is when the Controller last declared Deployment namespace/name's rollout failed (zero
// before it did), so a test can measure how long a stage took to notice.
func (c *Controller) FailedAt(namespace, name string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failedAt[namespace+"/"+name]
}

func (c *Controller) failing(namespace, name string) (PodProblem, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.fail[namespace+"/"+name]
	return p, ok
}

func (c *Controller) held(namespace, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hold[namespace+"/"+name]
}

func (c *Controller) sync(ctx context.Context) {
	list, err := c.env.Dynamic.Resource(kube.Deployments).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range list.Items {
		d := &list.Items[i]
		if replicas, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); found && replicas == 0 {
			continue
		}
		if pod, ok := c.failing(d.GetNamespace(), d.GetName()); ok {
			if !IsFailed(d) && c.env.FailRollout(ctx, d, pod) == nil {
				c.mu.Lock()
				c.failedAt[d.GetNamespace()+"/"+d.GetName()] = time.Now()
				c.mu.Unlock()
			}
			continue
		}
		if c.held(d.GetNamespace(), d.GetName()) {
			continue
		}
		key := d.GetNamespace() + "/" + d.GetName()
		if !c.probesPass(d) {
			if !IsProbeUnready(d) {
				names, _ := c.env.MarkProbeUnready(ctx, d)
				c.mu.Lock()
				c.unreadyPods[key] = append(c.unreadyPods[key], names...)
				c.mu.Unlock()
			}
			continue
		}
		if !IsRolledOut(d) && c.env.MarkReady(ctx, d) == nil {
			c.mu.Lock()
			names := c.unreadyPods[key]
			delete(c.unreadyPods, key)
			c.mu.Unlock()
			c.env.deletePods(ctx, d.GetNamespace(), names)
		}
	}
}

// IsRolledOut reports whether d's status says its current generation is fully available.
func IsRolledOut(d *unstructured.Unstructured) bool {
	og, _, _ := unstructured.NestedInt64(d.Object, "status", "observedGeneration")
	want, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	avail, _, _ := unstructured.NestedInt64(d.Object, "status", "availableReplicas")
	upd, _, _ := unstructured.NestedInt64(d.Object, "status", "updatedReplicas")
	return want >= 1 && og >= d.GetGeneration() && avail == want && upd == want
}

// IsScalingUp reports whether d's status says the rollout of its current template completed and
// only its replica count is changing: the controller observed the current generation, its
// Progressing condition is still NewReplicaSetAvailable (which it replaces when the template
// changes), every replica runs the current template and at least one is available. Such a version
// may take traffic (issue #9, G9); read from the raw status, independently of kube.RolloutOf.
func IsScalingUp(d *unstructured.Unstructured) bool {
	og, _, _ := unstructured.NestedInt64(d.Object, "status", "observedGeneration")
	want, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	replicas, _, _ := unstructured.NestedInt64(d.Object, "status", "replicas")
	upd, _, _ := unstructured.NestedInt64(d.Object, "status", "updatedReplicas")
	avail, _, _ := unstructured.NestedInt64(d.Object, "status", "availableReplicas")
	conds, _, _ := unstructured.NestedSlice(d.Object, "status", "conditions")
	completed := false
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Progressing" && m["status"] == "True" && m["reason"] == "NewReplicaSetAvailable" {
			completed = true
		}
	}
	return want >= 1 && og >= d.GetGeneration() && replicas == upd && avail > 0 && completed
}

// MarkReady writes d's status as a finished rollout of its current generation, the way the
// Deployment controller would once every pod is ready: Available, and Progressing with reason
// NewReplicaSetAvailable.
func (e *Env) MarkReady(ctx context.Context, d *unstructured.Unstructured) error {
	want, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	d = d.DeepCopy()
	d.Object["status"] = map[string]any{
		"observedGeneration": d.GetGeneration(),
		"replicas":           want,
		"updatedReplicas":    want,
		"readyReplicas":      want,
		"availableReplicas":  want,
		"conditions": []any{map[string]any{
			"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
			"lastUpdateTime": time.Now().UTC().Format(time.RFC3339), "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}, map[string]any{ // the controller's mark of a completed rollout, kept while only the count changes
			"type": "Progressing", "status": "True", "reason": kube.NewRSAvailableReason,
			"lastUpdateTime": time.Now().UTC().Format(time.RFC3339), "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}},
	}
	_, err := e.Dynamic.Resource(kube.Deployments).Namespace(d.GetNamespace()).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	return err
}
