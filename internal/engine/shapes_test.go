package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestExplainServerShapes checks Explain on the Statuses the real API server sends for refusals
// mlcanary's own writes cannot reach — a LimitRange (enforced on Pods, not on the Deployments
// mlcanary writes) and an apply conflict with another field manager (mlcanary applies with force) —
// so the message forms internal/kube/errors_test.go encodes are the server's. It lives here to share
// the package's API server.
func TestExplainServerShapes(t *testing.T) {
	e := shared.Env(t) // the package's API server
	ctx := context.Background()
	ns := newFixture(t).ns
	req := kube.Request{Doing: "writing", Namespace: ns, Host: e.Config.Host}

	t.Run("LimitRange", func(t *testing.T) {
		lr := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "LimitRange",
			"metadata": map[string]any{"name": "small", "namespace": ns},
			"spec":     map[string]any{"limits": []any{map[string]any{"type": "Container", "max": map[string]any{"memory": "64Mi"}}}}}}
		if _, err := e.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}).Namespace(ns).Create(ctx, lr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "big", "namespace": ns},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "model", "image": "m:1",
				"resources": map[string]any{"limits": map[string]any{"memory": "128Mi"}}}}}}}
		var err error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			// The plugin sees the LimitRange through an informer, a moment after it is written.
			if _, err = e.Dynamic.Resource(kube.Pods).Namespace(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
				break
			}
		}
		got := kube.Explain(err, req)
		want := `writing: a LimitRange of namespace "` + ns + `" refused it: maximum memory usage per Container is 64Mi, but limit is 128Mi; make the requests and limits fit`
		if got.Cause != kube.CauseLimitRange || !strings.HasPrefix(got.Error(), want) {
			t.Errorf("%q: %s\nwant %s…", got.Cause, got, want)
		}
	})

	t.Run("apply conflict", func(t *testing.T) {
		deploy := func(manager string, replicas int64, force bool) error {
			d := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "model-blue", "namespace": ns},
				"spec": map[string]any{"replicas": replicas,
					"selector": map[string]any{"matchLabels": map[string]any{"app": "m"}},
					"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "m"}},
						"spec": map[string]any{"containers": []any{map[string]any{"name": "model", "image": "m:1"}}}}}}}
			data, err := d.MarshalJSON()
			if err != nil {
				return err
			}
			_, err = e.Dynamic.Resource(kube.Deployments).Namespace(ns).Patch(ctx, "model-blue", types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: manager, Force: &force})
			return err
		}
		if err := deploy("helm", 2, false); err != nil {
			t.Fatal(err)
		}
		got := kube.Explain(deploy("mlcanary", 3, false), req)
		want := `writing: another field manager owns what it would change: .spec.replicas (conflict with "helm"`
		if got.Cause != kube.CauseConflict || !strings.HasPrefix(got.Error(), want) {
			t.Errorf("%q: %s\nwant %s…", got.Cause, got, want)
		}
	})
}
