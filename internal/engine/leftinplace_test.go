package engine_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// foreignBlue installs a blue Deployment and Service before mlcanary runs, as another tool would:
// with labels and annotations (a Helm chart's, say) or none (a hand-written manifest), as "helm".
func foreignBlue(t *testing.T, f *fixture, labels, annotations map[string]any) {
	t.Helper()
	sel := map[string]any{"app": "model", "model_version": "blue"}
	meta := func(name string) map[string]any {
		l := map[string]any{"app": "model", "model_version": "blue"}
		for k, v := range labels {
			l[k] = v
		}
		m := map[string]any{"name": name, "labels": l}
		if annotations != nil {
			m["annotations"] = annotations
		}
		return m
	}
	applyAs(t, "helm", kube.Deployments, f.ns, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("model-blue"),
		"spec": map[string]any{"replicas": int64(1), "selector": map[string]any{"matchLabels": sel},
			"template": map[string]any{"metadata": map[string]any{"labels": sel},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "model", "image": imgA,
					"ports": []any{map[string]any{"containerPort": int64(5001)}}}}}}}})
	applyAs(t, "helm", kube.Services, f.ns, map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": meta("model-svc-blue"),
		"spec": map[string]any{"selector": sel, "ports": []any{map[string]any{"name": "http", "port": int64(5001), "targetPort": int64(5001)}}}})
	waitReady(t, f.ns, "model-blue")
}

// TestRemovingLeavesObjectsOfOtherManagersInPlace: mlcanary deletes only objects it created (its
// managed-by mark). A blue Deployment and Service a Helm release installed, or someone wrote by
// hand, are unrouted by Rollback and Green_100 as usual but left in place, one line each in the
// summary; a re-run writes nothing. (Break-it review of issue #13, F5: Rollback deleted a Helm
// release's blue.)
func TestRemovingLeavesObjectsOfOtherManagersInPlace(t *testing.T) {
	helm := map[string]any{"meta.helm.sh/release-name": "scoring", "meta.helm.sh/release-namespace": "NS"}
	for _, c := range []struct {
		name, stage string
		labels      map[string]any
		annotations map[string]any
		manager     string
	}{
		{"Rollback, Helm release", "Rollback", map[string]any{"app.kubernetes.io/managed-by": "Helm"}, helm, "Helm release scoring"},
		{"Green_100, Helm release", "Green_100", map[string]any{"app.kubernetes.io/managed-by": "Helm"}, helm, "Helm release scoring"},
		{"Rollback, hand-written", "Rollback", nil, nil, "not created by mlcanary"},
		{"Rollback, kustomize", "Rollback", map[string]any{"app.kubernetes.io/managed-by": "kustomize"}, nil, "managed by kustomize"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			newD0().apply(t, f)
			ann := map[string]any{}
			for k, v := range c.annotations {
				ann[k] = strings.ReplaceAll(v.(string), "NS", f.ns)
			}
			if c.annotations == nil {
				ann = nil
			}
			foreignBlue(t, f, c.labels, ann)
			f.stage("Blue_0", imgB)
			if c.stage == "Green_100" {
				f.stage("Blue_100", imgB)
				f.stage("Blue_Green", imgB)
			}
			res := f.stage(c.stage, "")
			for _, o := range []struct {
				gvr  schema.GroupVersionResource
				name string
			}{{kube.Deployments, "model-blue"}, {kube.Services, "model-svc-blue"}} {
				if _, err := env.Dynamic.Resource(o.gvr).Namespace(f.ns).Get(context.Background(), o.name, metav1.GetOptions{}); err != nil {
					t.Errorf("%s deleted %s %s/%s (%s): %v", c.stage, kube.Kind(o.gvr), f.ns, o.name, c.manager, err)
				}
				want := "left " + kube.Kind(o.gvr) + " " + f.ns + "/" + o.name + " (" + c.manager + ") in place"
				found := false
				for _, n := range res.Notes {
					found = found || strings.Contains(n, want)
				}
				if !found {
					t.Errorf("%s's notes %q do not say %q", c.stage, res.Notes, want)
				}
			}
			if r, _ := f.live(); r.Weights[config.Green] != 100 || r.References(config.Blue) {
				t.Errorf("after %s: %v, want everything on green and no route to blue", c.stage, r)
			}
			f.rec.reset()
			f.stage(c.stage, "")
			noWrites(t, f, "re-running "+c.stage)
		})
	}
}

// TestRemovingDeletesWhatMlcanaryCreated: blue created by mlcanary is still deleted, with no note.
func TestRemovingDeletesWhatMlcanaryCreated(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	res := f.stage("Rollback", "")
	for _, n := range res.Notes {
		if strings.Contains(n, "in place") {
			t.Errorf("note %q for a blue mlcanary created", n)
		}
	}
	for _, o := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{kube.Deployments, "model-blue"}, {kube.Services, "model-svc-blue"}} {
		if u, err := env.Dynamic.Resource(o.gvr).Namespace(f.ns).Get(context.Background(), o.name, metav1.GetOptions{}); err == nil && u.GetDeletionTimestamp() == nil {
			t.Errorf("Rollback kept %s %s/%s, which mlcanary created", kube.Kind(o.gvr), f.ns, o.name)
		}
	}
}
