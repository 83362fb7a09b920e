package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// kedaOnGreen gives f's green (after a first release) a ScaledObject, as a platform team's Helm
// release would, with the HPA KEDA's operator makes for it and KEDA's replica count.
func kedaOnGreen(t *testing.T, f *fixture) {
	t.Helper()
	so := map[string]any{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": map[string]any{"name": "scoring"},
		"spec": map[string]any{"scaleTargetRef": map[string]any{"name": "model-green"}, "minReplicaCount": int64(2), "maxReplicaCount": int64(8),
			"triggers": []any{map[string]any{"type": "cpu", "metricType": "Utilization", "metadata": map[string]any{"value": "60"}}}}}
	applyAs(t, "helm", kube.ScaledObjects, f.ns, so)
	applyAs(t, "keda-operator", hpaGVR, f.ns, kedaHPA("keda-hpa-scoring", "scoring", "model-green"))
	scaleTo(t, f.ns, "model-green", "keda-operator", 3)
}

// TestKEDAReleaseUnderTheDocumentedRole (issue #9, RBAC): with KEDA installed and a ScaledObject on
// green, the documented Role — whose scaledobjects rule (list, create, patch, delete in keda.sh)
// no test ran under before — is enough for a whole release: Blue_0 gives blue a ScaledObject copied
// from green's and starts it with green's 3 replicas, Blue_Green hands green blue's settings,
// Green_100 removes blue's copy and keeps green's; no stage notes an autoscaler it could not read.
func TestKEDAReleaseUnderTheDocumentedRole(t *testing.T) {
	f := newFixture(t)
	if err := installKEDA(); err != nil {
		t.Fatal(err)
	}
	f.reach(states[3].path)
	kedaOnGreen(t, f)
	cl := documentedRoleClient(t, f)
	for _, st := range []string{"Blue_0@" + imgB, "Blue_50", "Blue_100", "Blue_Green", "Green_100"} {
		stage, image := cut(st)
		res, err := cl.Stage(context.Background(), f.cfg(stage, image), t.Logf)
		if err != nil {
			t.Fatalf("%s with the documented Role: %v", stage, err)
		}
		if n := strings.Join(res.Notes, "\n"); strings.Contains(n, "utoscaler") || strings.Contains(n, "ScaledObject") {
			t.Errorf("%s notes %q", stage, n)
		}
		if stage == "Blue_0" {
			if !exists(kube.ScaledObjects, f.ns, "model-blue") || exists(hpaGVR, f.ns, "model-blue") {
				t.Fatal("Blue_0 with the documented Role gave blue no ScaledObject (or an HPA)")
			}
			if b := replicas(t, f.ns, "model-blue"); b != 3 {
				t.Errorf("Blue_0 started blue with %d replicas, want green's 3", b)
			}
			// KEDA's operator makes blue's HPA from blue's ScaledObject.
			applyAs(t, "keda-operator", hpaGVR, f.ns, kedaHPA("keda-hpa-model-blue", "model-blue", "model-blue"))
		}
	}
	if exists(kube.ScaledObjects, f.ns, "model-blue") || !exists(kube.ScaledObjects, f.ns, "scoring") {
		t.Fatal("Green_100 with the documented Role kept blue's ScaledObject, or removed green's")
	}
}

// TestKEDAHPAWithoutKEDAInstalled (issue #9): an HPA labelled as KEDA's (scaledobject.keda.sh/name)
// in a cluster where KEDA's ScaledObject CRD is not installed (uninstalled, or the label copied):
// the ScaledObjects list answers 404, which means there are none. Every stage still runs: the HPA
// still scales green, so mlcanary sends no replicas for it and
// starts blue with green's count; blue gets no autoscaler (copying KEDA's HPA would make one KEDA
// does not manage), said in a note; Rollback removes blue. The API server answers the list as it
// does for any CRD not installed (testenv.WithoutGroup hides keda.sh on the shared server).
func TestKEDAHPAWithoutKEDAInstalled(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "keda-operator", hpaGVR, f.ns, kedaHPA("keda-hpa-scoring", "scoring", "model-green"))
	scaleTo(t, f.ns, "model-green", "keda-operator", 3)
	cl := clientFor(t, env.WithoutGroup(t, "keda.sh"))
	for _, st := range []string{"Blue_0@" + imgB, "Blue_0@" + imgB, "Blue_50", "Rollback"} {
		stage, image := cut(st)
		res, err := cl.Stage(context.Background(), f.cfg(stage, image), t.Logf)
		if err != nil {
			t.Fatalf("%s without KEDA's CRD: %v", stage, err)
		}
		if stage == "Blue_0" {
			if want := "blue's autoscaler was left as it is: green's is KEDA's ScaledObject scoring, which could not be read"; !strings.Contains(strings.Join(res.Notes, "\n"), want) {
				t.Errorf("Blue_0 notes %q, want %q", res.Notes, want)
			}
			if exists(hpaGVR, f.ns, "model-blue") {
				t.Fatal("Blue_0 copied KEDA's HPA to blue")
			}
			if b, g := replicas(t, f.ns, "model-blue"), replicas(t, f.ns, "model-green"); b != 3 || g != 3 {
				t.Errorf("after Blue_0 blue runs %d, green %d; want green's 3 each", b, g)
			}
		}
	}
	if exists(kube.Deployments, f.ns, "model-blue") || replicas(t, f.ns, "model-green") != 3 {
		t.Fatal("Rollback kept blue, or changed green's replicas")
	}
}
