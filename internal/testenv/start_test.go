package testenv_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// TestEnvServesIstioAndPlaysController checks the harness itself: Istio's VirtualService CRD is
// served, and the stand-in controller makes a Deployment ready unless it is held.
func TestEnvServesIstioAndPlaysController(t *testing.T) {
	e := testenv.Start(t)
	ctx := context.Background()
	if _, err := e.Dynamic.Resource(kube.VirtualServices).Namespace("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("listing VirtualServices: %v", err)
	}
	c := e.StartController(t)
	c.Hold("default", "held")
	for _, name := range []string{"ready", "held"} {
		d := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "namespace": "default"},
			"spec": map[string]any{
				"replicas": int64(2),
				"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": name}},
					"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "x:1"}}},
				},
			},
		}}
		if _, err := e.Dynamic.Resource(kube.Deployments).Namespace("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := e.Dynamic.Resource(kube.Deployments).Namespace("default").Get(ctx, "ready", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if testenv.IsRolledOut(got) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Deployment default/ready never became ready: %v", got.Object["status"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	held, err := e.Dynamic.Resource(kube.Deployments).Namespace("default").Get(ctx, "held", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if testenv.IsRolledOut(held) {
		t.Fatal("held Deployment default/held was marked ready")
	}
	t.Run("readiness probes", func(t *testing.T) { controllerHonoursProbes(t, e, c) })
}
