package engine_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// The copy of green's autoscaler Blue_0 gives blue is named after blue's Deployment. A name is no
// proof of ownership (break-it review of #9, G1): an autoscaler of that kind and name which
// mlcanary did not create is another manager's, and no stage may write or delete it.

// TestBluesAutoscalerCopyNeverTakesOverAnotherManagersHPA is G1's case: the platform team's HPA
// model-blue scales its own model-blue-batch. Blue_0 used to force-apply blue's copy onto it (its
// target became model-blue, it got mlcanary's labels, and Green_100 then deleted it). Now Blue_0
// refuses before any write, naming the HPA, its manager and what it scales; the HPA is untouched.
func TestBluesAutoscalerCopyNeverTakesOverAnotherManagersHPA(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 2, 10))
	platform := hpaSpec("model-blue", "model-blue-batch", 1, 3)
	platform["metadata"].(map[string]any)["annotations"] = map[string]any{"meta.helm.sh/release-name": "batch"}
	applyAs(t, "platform", hpaGVR, f.ns, platform)
	before := get(t, hpaGVR, f.ns, "model-blue").GetResourceVersion()
	f.rec.reset()
	_, err := f.try("Blue_0", imgB)
	noWrites(t, f, "Blue_0 refused for another manager's HPA model-blue")
	if err == nil {
		t.Fatal("Blue_0 succeeded; want it refused before any write")
	}
	for _, want := range []string{"HorizontalPodAutoscaler " + f.ns + "/model-blue exists and is another manager's (Helm release batch; it scales Deployment model-blue-batch)", "--blue-deployment"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	if after := get(t, hpaGVR, f.ns, "model-blue"); after.GetResourceVersion() != before {
		ref, _, _ := unstructured.NestedString(after.Object, "spec", "scaleTargetRef", "name")
		t.Fatalf("Blue_0 rewrote the platform team's HPA model-blue: it now scales %s, labels %v", ref, after.GetLabels())
	}
	if exists(kube.Deployments, f.ns, "model-blue") {
		t.Error("Blue_0 deployed blue although it refused")
	}
}

// TestBluesScaledObjectCopyNeverTakesOverAnotherManagersScaledObject: the same kind with KEDA —
// green's ScaledObject would be copied as ScaledObject model-blue, and another team's ScaledObject
// of that name scales its own Deployment: Blue_0 refuses before any write, naming it.
func TestBluesScaledObjectCopyNeverTakesOverAnotherManagersScaledObject(t *testing.T) {
	f := newFixture(t)
	if err := installKEDA(); err != nil {
		t.Fatal(err)
	}
	f.reach(states[3].path)
	so := func(name, target string) map[string]any {
		return map[string]any{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"scaleTargetRef": map[string]any{"name": target}, "minReplicaCount": int64(1), "maxReplicaCount": int64(4),
				"triggers": []any{map[string]any{"type": "cpu", "metricType": "Utilization", "metadata": map[string]any{"value": "70"}}}}}
	}
	applyAs(t, "helm", kube.ScaledObjects, f.ns, so("scoring", "model-green"))
	applyAs(t, "keda-operator", hpaGVR, f.ns, kedaHPA("keda-hpa-scoring", "scoring", "model-green"))
	applyAs(t, "platform", kube.ScaledObjects, f.ns, so("model-blue", "model-blue-batch"))
	before := get(t, kube.ScaledObjects, f.ns, "model-blue").GetResourceVersion()
	f.rec.reset()
	_, err := f.try("Blue_0", imgB)
	noWrites(t, f, "Blue_0 refused for another manager's ScaledObject model-blue")
	if want := "ScaledObject " + f.ns + "/model-blue exists and is another manager's (not created by mlcanary; it scales Deployment model-blue-batch)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Blue_0: %v; want refused with %q", err, want)
	}
	if get(t, kube.ScaledObjects, f.ns, "model-blue").GetResourceVersion() != before {
		t.Fatal("Blue_0 rewrote the other team's ScaledObject model-blue")
	}
}

// TestBluesOwnForeignAutoscalerIsLeftAndKept: an HPA model-blue that another manager made for
// blue's Deployment itself (a team that already ran blue with its own autoscaler) is blue's
// autoscaler, not a name clash: Blue_0 gives blue no copy and leaves it as it is, and Rollback,
// which removes blue, keeps it (only mlcanary's copy is removed with blue).
func TestBluesOwnForeignAutoscalerIsLeftAndKept(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 2, 10))
	applyAs(t, "platform", hpaGVR, f.ns, hpaSpec("model-blue", "model-blue", 1, 3))
	before := get(t, hpaGVR, f.ns, "model-blue").GetResourceVersion()
	f.stage("Blue_0", imgB)
	f.stage("Rollback", "")
	after := get(t, hpaGVR, f.ns, "model-blue")
	if after.GetResourceVersion() != before || after.GetLabels()["app.kubernetes.io/managed-by"] == "mlcanary" {
		t.Fatalf("Blue_0 or Rollback wrote blue's own HPA (labels %v)", after.GetLabels())
	}
}
