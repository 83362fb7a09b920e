package engine_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// requestDrivenHPA is green's HPA as per-version autoscalers are written: an Object metric of
// green's Service (Istio requests per second through prometheus-adapter), an External metric
// selected by destination_workload=model-green and a Pods metric of green's version label.
func requestDrivenHPA() map[string]any {
	h := hpaSpec("scoring", "model-green", 2, 10)
	h["spec"].(map[string]any)["metrics"] = []any{
		map[string]any{"type": "Object", "object": map[string]any{
			"describedObject": map[string]any{"apiVersion": "v1", "kind": "Service", "name": "model-svc-green"},
			"metric":          map[string]any{"name": "istio_requests_per_second"},
			"target":          map[string]any{"type": "Value", "value": "50"}}},
		map[string]any{"type": "External", "external": map[string]any{
			"metric": map[string]any{"name": "istio_requests_total", "selector": map[string]any{"matchLabels": map[string]any{"destination_workload": "model-green"}}},
			"target": map[string]any{"type": "AverageValue", "averageValue": "50"}}},
		map[string]any{"type": "Pods", "pods": map[string]any{
			"metric": map[string]any{"name": "inflight", "selector": map[string]any{"matchLabels": map[string]any{"model_version": "green"}}},
			"target": map[string]any{"type": "AverageValue", "averageValue": "4"}}},
	}
	return h
}

// TestBluesAutoscalerCopyScalesOnBluesOwnLoad is G5's case (break-it review of #9): Blue_0 used to
// copy green's request-driven metrics verbatim, so blue's HPA scaled blue on green's load and, at
// Blue_100, shrank blue — then carrying every request — to its minimum. Now blue's copy measures
// model-svc-blue, destination_workload=model-blue and model_version=blue, and says so in its change
// line; through the release green's HPA is never written (Blue_Green's hand-over rewrites blue's
// names back to green's, which equal green's own settings), and Green_100 removes the copy.
func TestBluesAutoscalerCopyScalesOnBluesOwnLoad(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, requestDrivenHPA())
	greenHPA := get(t, hpaGVR, f.ns, "scoring").GetResourceVersion()
	res := f.stage("Blue_0", imgB)
	metrics, _ := json.Marshal(field(t, hpaGVR, f.ns, "model-blue", "spec", "metrics"))
	if strings.Contains(string(metrics), "green") {
		t.Fatalf("blue's HPA copy still measures green: %s", metrics)
	}
	for _, want := range []string{`"name":"model-svc-blue"`, `"destination_workload":"model-blue"`, `"model_version":"blue"`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("blue's HPA copy lacks %s: %s", want, metrics)
		}
	}
	if want := "green's names rewritten to blue's in 3 fields"; !strings.Contains(strings.Join(res.Changes, "\n"), want) {
		t.Errorf("changes %q lack %q", res.Changes, want)
	}
	f.rec.reset()
	f.stage("Blue_0", imgB)
	noWrites(t, f, "re-run of Blue_0")
	for _, s := range []string{"Blue_50", "Blue_100", "Blue_Green", "Green_100"} {
		f.stage(s, "")
	}
	if rv := get(t, hpaGVR, f.ns, "scoring").GetResourceVersion(); rv != greenHPA {
		t.Errorf("green's HPA was written (resourceVersion %s → %s): the hand-over must give it back green's names", greenHPA, rv)
	}
	if exists(hpaGVR, f.ns, "model-blue") {
		t.Error("Green_100 kept blue's copy")
	}
}

// TestAutoscalerCopyThatWouldStillMeasureGreenIsRefused: a metric naming green in a way mlcanary
// cannot rewrite (a label slot=green whose key is no version label's) would leave blue's copy
// measuring green: Blue_0 refuses before any write, naming the autoscaler, the metric and the text,
// and how to write it.
func TestAutoscalerCopyThatWouldStillMeasureGreenIsRefused(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	h := requestDrivenHPA()
	h["spec"].(map[string]any)["metrics"] = append(h["spec"].(map[string]any)["metrics"].([]any), map[string]any{"type": "External", "external": map[string]any{
		"metric": map[string]any{"name": "queue_depth", "selector": map[string]any{"matchLabels": map[string]any{"queue": "scoring-green"}}},
		"target": map[string]any{"type": "AverageValue", "averageValue": "30"}}})
	applyAs(t, "helm", hpaGVR, f.ns, h)
	f.rec.reset()
	_, err := f.try("Blue_0", imgB)
	noWrites(t, f, "Blue_0 refused")
	want := "blue's copy of green's HorizontalPodAutoscaler " + f.ns + "/scoring would scale blue on green's load: metric 4 (External queue_depth) names green: scoring-green. mlcanary rewrites"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Blue_0: %v; want refused with %q", err, want)
	}
	if exists(hpaGVR, f.ns, "model-blue") {
		t.Fatal("Blue_0 created blue's copy although it refused")
	}
}

// TestHandOverThatWouldMeasureBlueKeepsGreensSettings: someone edited blue's copy during the
// release to scale on a queue named after blue. Blue_Green's hand-over cannot rewrite that for
// green, so green's HPA keeps its own settings (which measure green) and the stage says so.
func TestHandOverThatWouldMeasureBlueKeepsGreensSettings(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, requestDrivenHPA())
	f.stage("Blue_0", imgB)
	f.stage("Blue_100", "")
	edited := requestDrivenHPA()
	edited["metadata"] = map[string]any{"name": "model-blue"}
	edited["spec"].(map[string]any)["maxReplicas"] = int64(12)
	edited["spec"].(map[string]any)["scaleTargetRef"] = map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "model-blue"}
	edited["spec"].(map[string]any)["metrics"] = []any{map[string]any{"type": "External", "external": map[string]any{
		"metric": map[string]any{"name": "queue_depth", "selector": map[string]any{"matchLabels": map[string]any{"queue": "scoring-blue"}}},
		"target": map[string]any{"type": "AverageValue", "averageValue": "30"}}}}
	applyAs(t, "kubectl-edit", hpaGVR, f.ns, edited)
	greenHPA := get(t, hpaGVR, f.ns, "scoring").GetResourceVersion()
	res := f.stage("Blue_Green", "")
	if rv := get(t, hpaGVR, f.ns, "scoring").GetResourceVersion(); rv != greenHPA {
		t.Errorf("Blue_Green wrote green's HPA with settings that measure blue")
	}
	want := "green's autoscaler HorizontalPodAutoscaler " + f.ns + "/scoring kept its own settings: blue's HorizontalPodAutoscaler " + f.ns + "/model-blue names blue where mlcanary cannot rewrite it for green (metric 1 (External queue_depth) names blue: scoring-blue)"
	if !strings.Contains(strings.Join(res.Notes, "\n"), want) {
		t.Errorf("notes %q lack %q", res.Notes, want)
	}
}
