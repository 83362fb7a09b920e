package engine

import (
	"context"
	"encoding/json"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
	"github.com/mlcanary/mlcanary/internal/render"
)

// deployment renders version v's Deployment running image from its pod template (template) with
// the replicas mlcanary may set, and
// the merge that completes it against the live one. The rule (README, "What every stage
// guarantees" and "Autoscaling"): mlcanary does not own the spec.replicas of a Deployment it did
// not create (adopted), nor of one an autoscaler scales, nor of either version's when one scales
// green (blue gets a copy of green's autoscaler). Such a Deployment is sent without spec.replicas,
// so server-side apply leaves them to whoever owns them and an autoscaler's changes cause no
// write; one mlcanary creates starts with plan.StartReplicas (set after the hash is stamped, so
// a re-run, which sends none, matches it). Otherwise the count is plan.Replicas, the stage rule
// that never reduces the capacity of the version that serves, or is about to serve, the traffic.
func (l *liveState) deployment(v config.Version, image, container string) (*appsv1.Deployment, func(desired, live *unstructured.Unstructured) error) {
	d := render.Deployment(l.cfg, v, l.template(v, container), image)
	live := l.deployments[v]
	read := l.observed()
	a := l.autoscalers[config.Green]
	if own := l.autoscalers[config.Blue]; a == nil && own != nil && own.mine() {
		a = own // green's is gone: Blue_0 removes blue's copy, and until it is gone blue says it has one
	}
	if v == config.Blue && a != nil {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[AutoscalerAnnotation] = a.obj.GetKind()
	}
	if !l.ownsReplicas(v) {
		if live != nil {
			d.Spec.Replicas = nil
			return d, nil
		}
		n := *d.Spec.Replicas
		if a := l.autoscalers[config.Green]; v == config.Blue && a != nil {
			n = plan.StartReplicas(replicasOf(read.typed[config.Green]), a.minReplicas())
		}
		d.Spec.Replicas = nil
		return d, func(desired, _ *unstructured.Unstructured) error {
			return unstructured.SetNestedField(desired.Object, int64(n), "spec", "replicas")
		}
	}
	if live == nil {
		return d, nil
	}
	n := plan.Replicas(l.cfg.Stage, v, *d.Spec.Replicas, read.routing.Weights[v] > 0, replicasOf(read.typed[v]), replicasOf(read.typed[config.Blue]))
	d.Spec.Replicas = &n
	return d, nil
}

// ownsReplicas reports whether mlcanary sets v's spec.replicas (see deployment).
func (l *liveState) ownsReplicas(v config.Version) bool {
	if live := l.deployments[v]; live != nil && ownership.Adopted(live) {
		return false
	}
	return !l.autoscaled[l.cfg.Objects[v].Deployment] && !l.autoscaled[l.cfg.Objects[config.Green].Deployment]
}

// handOver runs before a write of v's Deployment that leaves out spec.replicas (ownsReplicas is
// false). When mlcanary's manager owns them on the live object (it created the Deployment, or an
// earlier release sent them), sending none would make the API server reset them to 1; so first
// it applies the live count as kube.ScaleManager — Kubernetes' documented hand-over of
// spec.replicas to an autoscaler — and FieldManager then lets go of them. Blue_Green also scales
// green, about to take every request from blue, to at least what blue runs (plan.Replicas' rule),
// once, the way `kubectl scale` would; the autoscaler may change it afterwards. step calls it only
// when the live Deployment exists and the write changes it: nothing is sent when the Deployment
// write itself is not needed.
func (e *execution) handOver(ctx context.Context, v config.Version) error {
	live := e.live.deployments[v]
	if e.live.ownsReplicas(v) || e.c.offline {
		return nil
	}
	typed := e.live.observed().typed
	have := replicasOf(typed[v])
	n := have
	if e.cfg.Stage.Kind == config.KindBlueGreen && v == config.Green {
		n = max(n, replicasOf(typed[config.Blue]))
	}
	if n == have && !ownsField(live, kube.FieldManager, "f:spec", "f:replicas") {
		return nil
	}
	scale := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"spec": map[string]any{"replicas": int64(n)}}}
	scale.SetName(live.GetName())
	scale.SetNamespace(live.GetNamespace())
	if _, err := e.c.cluster.Apply(kube.WithFieldManager(ctx, kube.ScaleManager), kube.Deployments, scale, e.cfg.DryRun); err != nil {
		return err
	}
	detail := "replicas handed to the autoscaler"
	if n != have {
		detail = "scaled to " + strconv.Itoa(int(n)) + ", as blue runs"
	}
	e.change("updated", kube.Deployments, live.GetName(), detail)
	return nil
}

// ownsField reports whether manager's server-side apply entry on obj owns the field at path
// (managedFields, e.g. "f:spec", "f:replicas").
func ownsField(obj *unstructured.Unstructured, manager string, path ...string) bool {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager != manager || mf.Operation != metav1.ManagedFieldsOperationApply || mf.Subresource != "" || mf.FieldsV1 == nil {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields) != nil {
			continue
		}
		found := true
		for _, p := range path {
			if fields, found = fields[p].(map[string]any); !found {
				break
			}
		}
		if found {
			return true
		}
	}
	return false
}

// replicasOf is a live Deployment's spec.replicas (0 when absent or nil: the API server defaults it).
func replicasOf(d *appsv1.Deployment) int32 {
	if d == nil || d.Spec.Replicas == nil {
		return 0
	}
	return *d.Spec.Replicas
}
