package engine

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
	"github.com/mlcanary/mlcanary/internal/render"
)

// hpas are autoscaling/v2 HorizontalPodAutoscalers: one that targets a Deployment owns its replicas.
var hpas = schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}

// readAutoscaled lists the namespace's HorizontalPodAutoscalers (one paged list) when a Deployment
// mlcanary created exists — only its replicas are ever set by mlcanary — and records the names of
// the Deployments they scale. The list is optional: a 403 (the documented Role does not grant it)
// leaves a note, and then only adopted Deployments keep their replicas; a 404 (no autoscaling/v2)
// means no autoscalers.
func (c *Client) readAutoscaled(ctx context.Context, l *liveState) error {
	l.autoscaled = map[string]bool{}
	owned := false
	for _, v := range config.Versions {
		owned = owned || (l.deployments[v] != nil && !ownership.Adopted(l.deployments[v]))
	}
	if !owned {
		return nil
	}
	list, err := c.cluster.List(ctx, hpas, l.cfg.Namespace)
	switch {
	case refused(err):
		l.autoscaledNote = fmt.Sprintf("HorizontalPodAutoscalers in namespace %s were not checked (the credentials cannot list them; optional): the replicas of Deployments mlcanary created are set to --replicas", l.cfg.Namespace)
		return nil
	case kube.CauseOf(err) == kube.CauseNotFound:
		return nil
	case err != nil:
		return fmt.Errorf("checking which Deployments a HorizontalPodAutoscaler scales: %w", err)
	}
	for _, h := range list {
		kind, _, _ := unstructured.NestedString(h.Object, "spec", "scaleTargetRef", "kind")
		name, _, _ := unstructured.NestedString(h.Object, "spec", "scaleTargetRef", "name")
		if kind == "Deployment" {
			l.autoscaled[name] = true
		}
	}
	return nil
}

// deployment renders version v's Deployment running image from its pod template (template) with
// the replicas mlcanary may set, and
// the merge that completes it against the live one. The rule (README, "What every stage
// guarantees"): mlcanary never changes the replicas of a Deployment it did not create (adopted)
// nor of one a HorizontalPodAutoscaler scales — the desired object then leaves them out of its
// hash and sends the live count (keepLiveReplicas), so an autoscaler's changes cause no write and
// a write for another reason (the image) keeps them. Otherwise the count is plan.Replicas, the
// stage rule that never reduces the capacity of the version that serves, or is about to serve, the
// traffic.
func (l *liveState) deployment(v config.Version, image, container string) (*appsv1.Deployment, func(desired, live *unstructured.Unstructured) error) {
	d := render.Deployment(l.cfg, v, l.template(v, container), image)
	live := l.deployments[v]
	if live == nil {
		return d, nil
	}
	if ownership.Adopted(live) || l.autoscaled[live.GetName()] {
		d.Spec.Replicas = nil
		return d, keepLiveReplicas
	}
	read := l.observed()
	n := plan.Replicas(l.cfg.Stage, v, *d.Spec.Replicas, read.routing.Weights[v] > 0, replicasOf(read.typed[v]), replicasOf(read.typed[config.Blue]))
	d.Spec.Replicas = &n
	return d, nil
}

// keepLiveReplicas sets desired's spec.replicas to live's (after the hash was stamped without them).
func keepLiveReplicas(desired, live *unstructured.Unstructured) error {
	if live == nil {
		return nil
	}
	if r, found, _ := unstructured.NestedInt64(live.Object, "spec", "replicas"); found {
		return unstructured.SetNestedField(desired.Object, r, "spec", "replicas")
	}
	return nil
}

// replicasOf is a live Deployment's spec.replicas (0 when absent or nil: the API server defaults it).
func replicasOf(d *appsv1.Deployment) int32 {
	if d == nil || d.Spec.Replicas == nil {
		return 0
	}
	return *d.Spec.Replicas
}
