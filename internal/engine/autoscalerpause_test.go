package engine_test

import (
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// pausedScaledObject is green's ScaledObject as a team pauses it with KEDA's documented annotation
// (hold the workload at 4 replicas, e.g. while its metrics source is broken).
func pausedScaledObject(pause map[string]any) map[string]any {
	return map[string]any{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": "scoring", "annotations": pause},
		"spec": map[string]any{"scaleTargetRef": map[string]any{"name": "model-green"}, "minReplicaCount": int64(0), "maxReplicaCount": int64(8),
			"triggers": []any{map[string]any{"type": "prometheus", "metadata": map[string]any{"serverAddress": "http://prometheus.monitoring:9090",
				"query": `sum(rate(istio_requests_total{destination_app="model"}[1m]))`, "threshold": "50"}}}}}
}

// TestPausedScaledObjectStaysPausedOnBlue is G11's case (break-it review of #9): Blue_0 copied only
// the spec of green's paused ScaledObject, so blue's copy scaled freely on the triggers the team had
// switched off (down to minReplicaCount 0 when idle). Now the copy carries green's
// autoscaling.keda.sh/ annotations — paused-replicas and paused — and its change line says so; a
// re-run writes nothing; once the team resumes green (the annotation removed), the next Blue_0
// takes the pause off blue's copy too. KEDA's other annotations (transfer-hpa-ownership would make
// blue's copy take over an HPA) are not copied.
func TestPausedScaledObjectStaysPausedOnBlue(t *testing.T) {
	f := newFixture(t)
	if err := installKEDA(); err != nil {
		t.Fatal(err)
	}
	f.reach(states[3].path)
	applyAs(t, "helm", kube.ScaledObjects, f.ns, pausedScaledObject(map[string]any{
		"autoscaling.keda.sh/paused-replicas": "4", "autoscaling.keda.sh/paused": "true", "scaledobject.keda.sh/transfer-hpa-ownership": "true"}))
	applyAs(t, "keda-operator", hpaGVR, f.ns, kedaHPA("keda-hpa-scoring", "scoring", "model-green"))
	scaleTo(t, f.ns, "model-green", "keda-operator", 4)
	res := f.stage("Blue_0", imgB)
	ann := get(t, kube.ScaledObjects, f.ns, "model-blue").GetAnnotations()
	if ann["autoscaling.keda.sh/paused-replicas"] != "4" || ann["autoscaling.keda.sh/paused"] != "true" {
		t.Errorf("green's ScaledObject is paused at 4 replicas; blue's copy is not (annotations %v)", ann)
	}
	if _, ok := ann["scaledobject.keda.sh/transfer-hpa-ownership"]; ok {
		t.Error("blue's copy carries green's transfer-hpa-ownership")
	}
	if want := "paused as green's is (autoscaling.keda.sh/paused-replicas=4, autoscaling.keda.sh/paused=true)"; !strings.Contains(strings.Join(res.Changes, "\n"), want) {
		t.Errorf("changes %q lack %q", res.Changes, want)
	}
	f.rec.reset()
	f.stage("Blue_0", imgB)
	noWrites(t, f, "re-run of Blue_0 with green still paused")

	applyAs(t, "helm", kube.ScaledObjects, f.ns, pausedScaledObject(nil)) // the team resumes green
	f.stage("Blue_0", imgB)
	ann = get(t, kube.ScaledObjects, f.ns, "model-blue").GetAnnotations()
	if _, paused := ann["autoscaling.keda.sh/paused-replicas"]; paused {
		t.Errorf("green resumed, blue's copy still paused (annotations %v)", ann)
	}
	f.rec.reset()
	f.stage("Blue_0", imgB)
	noWrites(t, f, "re-run of Blue_0 with green resumed")
}
