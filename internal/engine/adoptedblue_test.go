package engine_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestBlueGreenGivesGreenAnAdoptedBluesWholeTemplate (break-it review of #9, G10): the team's blue
// was installed by Helm (adopted: Blue_0 sets only its image) with what the model needs — env,
// resources (a GPU), a node selector, its own readiness probe. Blue_Green gives green "blue's whole
// pod template as the cluster holds it", so green runs what was tested as blue; it used to give
// green the default template — a bare container with blue's image, no env, GPU or node selector —
// because blue carried no mlcanary template hash. Green keeps blue's own probe (the change line
// says so), a re-run writes nothing, status reads Blue_Green, and Green_100 (green's recorded hash
// is adopted blue's live template's) removes nothing of Helm's but routes all traffic to green.
func TestBlueGreenGivesGreenAnAdoptedBluesWholeTemplate(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	sel := map[string]any{"app": "model", "model_version": "blue"}
	applyAs(t, "helm", kube.Deployments, f.ns, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "model-blue", "labels": map[string]any{"app": "model", "model_version": "blue", "app.kubernetes.io/managed-by": "Helm"}},
		"spec": map[string]any{"replicas": int64(1), "selector": map[string]any{"matchLabels": sel},
			"template": map[string]any{"metadata": map[string]any{"labels": sel},
				"spec": map[string]any{"nodeSelector": map[string]any{"agentpool": "gpunp"}, "containers": []any{map[string]any{"name": "model", "image": imgA,
					"ports":          []any{map[string]any{"containerPort": int64(5001)}},
					"env":            []any{map[string]any{"name": "AZUREML_MODEL_DIR", "value": "/models/credit/3"}},
					"resources":      map[string]any{"limits": map[string]any{"nvidia.com/gpu": "1"}},
					"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/ready", "port": int64(5001)}}}}}}}})
	applyAs(t, "helm", kube.Services, f.ns, map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "model-svc-blue", "labels": map[string]any{"app.kubernetes.io/managed-by": "Helm"}},
		"spec":     map[string]any{"selector": sel, "ports": []any{map[string]any{"name": "http", "port": int64(5001), "targetPort": int64(5001)}}}})
	waitReady(t, f.ns, "model-blue")
	for _, st := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_100", ""}, {"Blue_Green", ""}} {
		if _, err := f.try(st.stage, st.image); err != nil {
			t.Fatalf("%s: %v", st.stage, err)
		}
	}
	green := podSpec(t, f.ns, "model-green")
	var env []corev1.EnvVar
	var probe *corev1.Probe
	if len(green.Spec.Containers) > 0 {
		env, probe = green.Spec.Containers[0].Env, green.Spec.Containers[0].ReadinessProbe
	}
	if len(env) == 0 || green.Spec.NodeSelector["agentpool"] != "gpunp" {
		t.Errorf("after Blue_Green green runs %d env vars and node selector %v; blue (Helm's) runs AZUREML_MODEL_DIR on agentpool=gpunp", len(env), green.Spec.NodeSelector)
	}
	if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != "/ready" {
		t.Errorf("green's readiness probe %+v, want blue's own GET /ready", probe)
	}
	if green.Labels["model_version"] != "green" || green.Spec.Containers[0].Image != imgB {
		t.Errorf("green's pods: labels %v, image %s", green.Labels, green.Spec.Containers[0].Image)
	}
	f.rec.reset()
	f.stage("Blue_Green", "")
	noWrites(t, f, "re-run of Blue_Green")
	if st := f.status(); st.Stage != "Blue_Green" {
		t.Errorf("status after Blue_Green: %q", st.Stage)
	}
	res := f.stage("Green_100", "")
	if res.Weights.Green != 100 || !exists(kube.Deployments, f.ns, "model-blue") {
		t.Errorf("Green_100: green %d%%; Helm's blue must be left in place", res.Weights.Green)
	}
}

// TestBlueGreenCopiesAnAdoptedBluesSidecarsAndScoringContainer (G10, more of the kind): Helm's blue
// runs a log-shipping sidecar first and the model in container scorer. With --container scorer,
// Blue_Green gives green both containers — the sidecar with its own image, scorer with blue's — and
// a re-run writes nothing; without --container the stage is bad input naming blue's containers
// (exit 2), before any write, since green would otherwise get the image in the sidecar or in neither.
func TestBlueGreenCopiesAnAdoptedBluesSidecarsAndScoringContainer(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	sel := map[string]any{"app": "model", "model_version": "blue"}
	applyAs(t, "helm", kube.Deployments, f.ns, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "model-blue", "labels": map[string]any{"app.kubernetes.io/managed-by": "Helm"}},
		"spec": map[string]any{"replicas": int64(1), "selector": map[string]any{"matchLabels": sel},
			"template": map[string]any{"metadata": map[string]any{"labels": sel},
				"spec": map[string]any{"containers": []any{sidecar(), map[string]any{"name": "scorer", "image": imgA,
					"ports": []any{map[string]any{"containerPort": int64(5001)}}}}}}}})
	applyAs(t, "helm", kube.Services, f.ns, map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "model-svc-blue", "labels": map[string]any{"app.kubernetes.io/managed-by": "Helm"}},
		"spec":     map[string]any{"selector": sel, "ports": []any{map[string]any{"name": "http", "port": int64(5001), "targetPort": int64(5001)}}}})
	waitReady(t, f.ns, "model-blue")
	run := func(stage, image, container string) error {
		c := f.cfg(stage, image)
		c.Container = container
		_, err := f.run(c)
		return err
	}
	for _, st := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_100", ""}} {
		if err := run(st.stage, st.image, "scorer"); err != nil {
			t.Fatalf("%s: %v", st.stage, err)
		}
	}
	f.rec.reset()
	err := run("Blue_Green", "", "")
	want := `invalid container "": allowed: the name of the container that runs the model in Deployment ` + f.ns + `/model-blue, which mlcanary did not create and whose image is all it changes: one of log-shipper, scorer (it has several containers and none is named model)`
	if err == nil || !strings.HasSuffix(err.Error(), want) || app.ExitCode(err) != app.ExitInvalid {
		t.Fatalf("Blue_Green without --container: %v (exit %d)\nwant exit 2 and …%s", err, app.ExitCode(err), want)
	}
	noWrites(t, f, "the refused Blue_Green")
	if err := run("Blue_Green", "", "scorer"); err != nil {
		t.Fatalf("Blue_Green --container scorer: %v", err)
	}
	if got := greenImages(t, f); got != "log-shipper="+sidecarImage+",scorer="+imgB {
		t.Errorf("green's containers after Blue_Green: %s", got)
	}
	f.rec.reset()
	if err := run("Blue_Green", "", "scorer"); err != nil {
		t.Fatal(err)
	}
	noWrites(t, f, "re-run of Blue_Green")
}
