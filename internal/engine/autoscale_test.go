package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// hpaSpec is an autoscaling/v2 HPA scaling Deployment target between lo and hi replicas on CPU.
func hpaSpec(name, target string, lo, hi int64) map[string]any {
	return map[string]any{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
		"metadata": map[string]any{"name": name, "labels": map[string]any{"team": "platform"}},
		"spec": map[string]any{"minReplicas": lo, "maxReplicas": hi,
			"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
			"metrics": []any{map[string]any{"type": "Resource", "resource": map[string]any{"name": "cpu",
				"target": map[string]any{"type": "Utilization", "averageUtilization": int64(70)}}}}}}
}

// replicas is Deployment ns/name's spec.replicas.
func replicas(t *testing.T, ns, name string) int64 {
	t.Helper()
	return field(t, kube.Deployments, ns, name, "spec", "replicas").(int64)
}

// ownsReplicas reports whether manager's apply entry owns ns/name's spec.replicas.
func ownsReplicas(t *testing.T, ns, name, manager string) bool {
	t.Helper()
	for _, mf := range get(t, kube.Deployments, ns, name).GetManagedFields() {
		if mf.Manager != manager || mf.Operation != metav1.ManagedFieldsOperationApply || mf.FieldsV1 == nil {
			continue
		}
		var f map[string]map[string]any
		if json.Unmarshal(mf.FieldsV1.GetRawBytes(), &f) == nil {
			if _, ok := f["f:spec"]["f:replicas"]; ok {
				return true
			}
		}
	}
	return false
}

// exists reports whether ns/name of gvr exists.
func exists(gvr schema.GroupVersionResource, ns, name string) bool {
	_, err := env.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	return err == nil
}

// TestHPAOnGreenKeepsItsReplicasThroughARelease is the case: an HPA (written by the
// platform team, not mlcanary) scales green to 6. Before, every stage forced the replicas of the
// Deployments mlcanary created back to --replicas (1), so Blue_0 gave blue 1 pod and the release
// ended with all traffic on 1 pod. Now: Blue_0 starts blue with green's 6 and gives it a copy of
// green's HPA; no stage changes a replica count an HPA owns, and mlcanary's field manager owns
// spec.replicas of neither Deployment; the HPA scaling green down while blue serves, Blue_Green
// scales green back to blue's count; Green_100 removes blue's copy with blue; green's HPA is never
// written (its settings equal blue's); each re-run writes nothing.
func TestHPAOnGreenKeepsItsReplicasThroughARelease(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path) // green alone, created by mlcanary with --replicas 1
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 2, 10))
	scaleTo(t, f.ns, "model-green", "horizontal-pod-autoscaler", 6)
	greenHPA := get(t, hpaGVR, f.ns, "scoring").GetResourceVersion()

	step := func(stage, image string, green, blue int64) {
		t.Helper()
		f.stage(stage, image)
		if g := replicas(t, f.ns, "model-green"); g != green {
			t.Fatalf("after %s green runs %d replicas, want %d", stage, g, green)
		}
		if blue > 0 {
			if b := replicas(t, f.ns, "model-blue"); b != blue {
				t.Fatalf("after %s blue runs %d replicas, want %d", stage, b, blue)
			}
		}
		f.rec.reset()
		f.stage(stage, image)
		noWrites(t, f, "re-run of "+stage)
	}
	step("Blue_0", imgB, 6, 6)
	copied := get(t, hpaGVR, f.ns, "model-blue")
	if copied.GetLabels()["app.kubernetes.io/managed-by"] != "mlcanary" || copied.GetAnnotations()["mlcanary.io/copied-from"] != "HorizontalPodAutoscaler "+f.ns+"/scoring" {
		t.Fatalf("blue's HPA labels %v annotations %v; want mlcanary's, copied from scoring", copied.GetLabels(), copied.GetAnnotations())
	}
	jsonEqual(t, "blue's HPA scaleTargetRef", field(t, hpaGVR, f.ns, "model-blue", "spec", "scaleTargetRef"), `{"apiVersion":"apps/v1","kind":"Deployment","name":"model-blue"}`)
	for _, p := range []string{"minReplicas", "maxReplicas", "metrics"} {
		g, _ := json.Marshal(field(t, hpaGVR, f.ns, "scoring", "spec", p))
		jsonEqual(t, "blue's HPA "+p, field(t, hpaGVR, f.ns, "model-blue", "spec", p), string(g))
	}
	step("Blue_50", "", 6, 6)
	step("Blue_100", "", 6, 6)
	// The HPA scales green down while blue takes the traffic; Blue_Green gives it blue's 6 again.
	scaleTo(t, f.ns, "model-green", "horizontal-pod-autoscaler", 2)
	step("Blue_Green", "", 6, 6)
	step("Green_100", "", 6, 0)
	if exists(hpaGVR, f.ns, "model-blue") || exists(kube.Deployments, f.ns, "model-blue") {
		t.Fatal("Green_100 left blue's HPA or Deployment")
	}
	for _, d := range []string{"model-green"} {
		if ownsReplicas(t, f.ns, d, kube.FieldManager) {
			t.Errorf("mlcanary's field manager owns %s's spec.replicas, which the HPA scales", d)
		}
	}
	if rv := get(t, hpaGVR, f.ns, "scoring").GetResourceVersion(); rv != greenHPA {
		t.Errorf("green's HPA (helm's) was written: resourceVersion %s → %s", greenHPA, rv)
	}
}

// TestBlueGreenHandsGreenBluesAutoscalerSettings: someone tunes blue's copy during the release
// (maxReplicas 20); Blue_Green gives green's HPA blue's settings, and only those: its name, labels
// and scaleTargetRef stay as helm wrote them. Rollback instead removes blue's copy with blue.
func TestBlueGreenHandsGreenBluesAutoscalerSettings(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 1, 5))
	f.stage("Blue_0", imgB)
	tuned := hpaSpec("model-blue", "model-blue", 1, 20)
	delete(tuned["metadata"].(map[string]any), "labels")
	applyAs(t, "kubectl-edit", hpaGVR, f.ns, tuned)
	f.stage("Blue_100", "")
	f.stage("Blue_Green", "")
	if m := field(t, hpaGVR, f.ns, "scoring", "spec", "maxReplicas"); m != int64(20) {
		t.Fatalf("green's HPA maxReplicas after Blue_Green = %v, want blue's 20", m)
	}
	jsonEqual(t, "green's HPA scaleTargetRef", field(t, hpaGVR, f.ns, "scoring", "spec", "scaleTargetRef"), `{"apiVersion":"apps/v1","kind":"Deployment","name":"model-green"}`)
	if l := get(t, hpaGVR, f.ns, "scoring").GetLabels(); l["team"] != "platform" || l["app.kubernetes.io/managed-by"] != "" {
		t.Fatalf("green's HPA labels after Blue_Green: %v", l)
	}
	f.rec.reset()
	f.stage("Blue_Green", "")
	noWrites(t, f, "re-run of Blue_Green")

	g := newFixture(t)
	g.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, g.ns, hpaSpec("scoring", "model-green", 1, 5))
	g.stage("Blue_0", imgB)
	g.stage("Blue_50", "")
	res := g.stage("Rollback", "")
	if exists(hpaGVR, g.ns, "model-blue") || !exists(hpaGVR, g.ns, "scoring") {
		t.Fatalf("Rollback: blue's HPA kept or green's removed (changes %q)", res.Changes)
	}
	if !strings.Contains(strings.Join(res.Changes, "\n"), "HorizontalPodAutoscaler "+g.ns+"/model-blue deleted") {
		t.Errorf("Rollback changes %q lack blue's HPA", res.Changes)
	}
}

// TestAHandoverOfReplicasMlcanaryOwned: green created by mlcanary (its manager owns
// spec.replicas = 3 through --replicas 3), then an HPA that has not changed the count yet. Blue_Green
// writes green (blue's image) without spec.replicas: the API server would reset them to 1 if
// nothing else owned them, so mlcanary first hands them over (kube.ScaleManager) and green keeps 3.
func TestAHandoverOfReplicasMlcanaryOwned(t *testing.T) {
	f := newFixture(t)
	for _, st := range states[3].path {
		stage, image := cut(st)
		c := f.cfg(stage, image)
		c.Replicas = 3
		if _, err := f.run(c); err != nil {
			t.Fatal(err)
		}
	}
	if !ownsReplicas(t, f.ns, "model-green", kube.FieldManager) {
		t.Fatal("setup: mlcanary does not own green's replicas")
	}
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 3, 10))
	for _, st := range []string{"Blue_0@" + imgB, "Blue_100", "Blue_Green", "Green_100"} {
		stage, image := cut(st)
		f.stage(stage, image)
		if g := replicas(t, f.ns, "model-green"); g != 3 {
			t.Fatalf("after %s green runs %d replicas, want 3", stage, g)
		}
	}
	if ownsReplicas(t, f.ns, "model-green", kube.FieldManager) || !ownsReplicas(t, f.ns, "model-green", kube.ScaleManager) {
		t.Fatal("green's spec.replicas were not handed over from mlcanary to mlcanary-scale")
	}
}

var installKEDA = sync.OnceValue(func() error {
	data, err := os.ReadFile("testdata/keda-scaledobjects-crd.yaml")
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	crd := &unstructured.Unstructured{}
	if err := crd.UnmarshalJSON(js); err != nil {
		return err
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	ctx := context.Background()
	if _, err := env.Dynamic.Resource(crds).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := env.Dynamic.Resource(kube.ScaledObjects).Namespace("default").List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("KEDA's ScaledObject CRD not served after 60s: %w", err)
		}
	}
})

// kedaHPA is the HPA KEDA's operator makes for ScaledObject so, scaling target (played by the test).
func kedaHPA(name, so, target string) map[string]any {
	h := hpaSpec(name, target, 2, 8)
	h["metadata"] = map[string]any{"name": name, "labels": map[string]any{"scaledobject.keda.sh/name": so, "app.kubernetes.io/managed-by": "keda-operator"}}
	return h
}

// TestKEDAScaledObjectOnGreen: with KEDA's CRD installed (testdata, shaped like KEDA's), a
// ScaledObject scales green through the HPA KEDA made for it. Blue_0 gives blue a ScaledObject
// (not an HPA: the same kind as green's) copied from green's — triggers (measuring blue's workload
// where green's measure green's), counts, everything but the target and the custom HPA name — starts blue with green's count, and a re-run writes
// nothing; Rollback removes blue's ScaledObject and keeps green's. Neither ScaledObject's
// replicas, nor KEDA's HPAs, are written by mlcanary.
func TestKEDAScaledObjectOnGreen(t *testing.T) {
	f := newFixture(t)
	if err := installKEDA(); err != nil {
		t.Fatal(err)
	}
	f.reach(states[3].path)
	so := map[string]any{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": map[string]any{"name": "scoring"},
		"spec": map[string]any{"scaleTargetRef": map[string]any{"name": "model-green"}, "minReplicaCount": int64(2), "maxReplicaCount": int64(8),
			"cooldownPeriod": int64(120), "advanced": map[string]any{"horizontalPodAutoscalerConfig": map[string]any{"name": "scoring-hpa"}},
			"triggers": []any{map[string]any{"type": "prometheus", "metadata": map[string]any{"serverAddress": "http://prometheus.monitoring:9090",
				"query": `sum(rate(istio_requests_total{destination_workload="model-green"}[1m]))`, "threshold": "50"}}}}}
	applyAs(t, "helm", kube.ScaledObjects, f.ns, so)
	applyAs(t, "keda-operator", hpaGVR, f.ns, kedaHPA("scoring-hpa", "scoring", "model-green"))
	scaleTo(t, f.ns, "model-green", "keda-operator", 4)

	f.stage("Blue_0", imgB)
	if b, g := replicas(t, f.ns, "model-blue"), replicas(t, f.ns, "model-green"); b != 4 || g != 4 {
		t.Fatalf("after Blue_0 blue runs %d, green %d; want green's 4 each", b, g)
	}
	if exists(hpaGVR, f.ns, "model-blue") {
		t.Fatal("Blue_0 gave blue an HPA; green's autoscaler is a ScaledObject")
	}
	jsonEqual(t, "blue's ScaledObject scaleTargetRef", field(t, kube.ScaledObjects, f.ns, "model-blue", "spec", "scaleTargetRef"), `{"name":"model-blue"}`)
	for _, p := range []string{"minReplicaCount", "maxReplicaCount", "cooldownPeriod", "triggers"} {
		g, _ := json.Marshal(field(t, kube.ScaledObjects, f.ns, "scoring", "spec", p))
		// the query measures green's workload; blue's copy measures blue's (G5)
		want := strings.ReplaceAll(string(g), `destination_workload=\"model-green\"`, `destination_workload=\"model-blue\"`)
		jsonEqual(t, "blue's ScaledObject "+p, field(t, kube.ScaledObjects, f.ns, "model-blue", "spec", p), want)
	}
	if _, found, _ := unstructured.NestedFieldCopy(get(t, kube.ScaledObjects, f.ns, "model-blue").Object, "spec", "advanced", "horizontalPodAutoscalerConfig", "name"); found {
		t.Fatal("blue's ScaledObject copies green's custom HPA name: KEDA would give both one HPA")
	}
	f.rec.reset()
	f.stage("Blue_0", imgB)
	noWrites(t, f, "re-run of Blue_0")
	applyAs(t, "keda-operator", hpaGVR, f.ns, kedaHPA("keda-hpa-model-blue", "model-blue", "model-blue"))
	f.stage("Blue_50", "")
	f.stage("Rollback", "")
	if exists(kube.ScaledObjects, f.ns, "model-blue") || !exists(kube.ScaledObjects, f.ns, "scoring") || !exists(hpaGVR, f.ns, "scoring-hpa") {
		t.Fatal("Rollback kept blue's ScaledObject or removed green's")
	}
	if g := replicas(t, f.ns, "model-green"); g != 4 {
		t.Fatalf("green runs %d after Rollback, want KEDA's 4", g)
	}
}

// TestUnreadableAutoscalersLeaveANote: credentials without list on HPAs (the documented Role with
// its autoscaler rule taken away) still run Blue_0 on an autoscaled green; the stage says in a
// note that the autoscalers were not checked, gives blue no copy, and sets blue's replicas to
// --replicas.
func TestUnreadableAutoscalersLeaveANote(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 1, 5))
	cl := documentedRoleClient(t, f)
	ctx := context.Background()
	roles := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	role := get(t, roles, f.ns, "mlcanary")
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	var kept []any
	for _, r := range rules {
		if groups, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "apiGroups"); len(groups) != 1 || groups[0] != "autoscaling" {
			kept = append(kept, r)
		}
	}
	if err := unstructured.SetNestedSlice(role.Object, kept, "rules"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Dynamic.Resource(roles).Namespace(f.ns).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	awaitRole(t, f.ns, hpaGVR, false, "the Role without autoscalers")
	res, err := cl.Stage(ctx, f.cfg("Blue_0", imgB), t.Logf)
	if err != nil {
		t.Fatalf("Blue_0 without list on HPAs: %v", err)
	}
	if want := "HorizontalPodAutoscalers in namespace " + f.ns + " were not checked (the credentials cannot list them; optional)"; !strings.Contains(strings.Join(res.Notes, "\n"), want) {
		t.Errorf("notes %q lack %q", res.Notes, want)
	}
	if exists(hpaGVR, f.ns, "model-blue") || replicas(t, f.ns, "model-blue") != 1 {
		t.Errorf("without list on HPAs blue got a copy or %d replicas; want none and --replicas 1", replicas(t, f.ns, "model-blue"))
	}
}
