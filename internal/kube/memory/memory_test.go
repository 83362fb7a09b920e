package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

func deployment(name string, replicas int64) *unstructured.Unstructured {
	d := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"spec": map[string]any{"replicas": replicas}}}
	d.SetNamespace("ns")
	d.SetName(name)
	return d
}

// TestApplyRecordsTheBodyAndStoresIt: the write record holds the body byte for byte as the
// dynamic client sends it; what is stored reads back equal, numbers as int64 as the API machinery
// decodes them; a dry run is recorded and stores nothing; a delete removes.
func TestApplyRecordsTheBodyAndStoresIt(t *testing.T) {
	ctx := context.Background()
	c := New()
	d := deployment("a", 2)
	want, _ := d.MarshalJSON()
	if _, err := c.Apply(ctx, kube.Deployments, d, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, kube.Deployments, "ns", "a"); got != nil {
		t.Fatalf("a dry run stored %v", got)
	}
	if _, err := c.Apply(ctx, kube.Deployments, d, false); err != nil {
		t.Fatal(err)
	}
	ws := c.Writes()
	if len(ws) != 2 || !ws[0].DryRun || ws[1].DryRun || string(ws[1].Body) != string(want) || ws[1].Verb != "apply" {
		t.Fatalf("writes %+v, want a dry and a real apply of %s", ws, want)
	}
	got, _ := c.Get(ctx, kube.Deployments, "ns", "a")
	if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); r != 2 {
		t.Errorf("stored replicas %v", got.Object["spec"])
	}
	got.SetLabels(map[string]string{"changed": "by the caller"})
	if again, _ := c.Get(ctx, kube.Deployments, "ns", "a"); again.GetLabels() != nil {
		t.Error("a caller's change to what Get returned reached the store")
	}
	if err := c.Delete(ctx, kube.Deployments, "ns", "a", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, kube.Deployments, "ns", "a"); got != nil || len(c.Writes()) != 3 {
		t.Errorf("after delete: %v, %d writes", got, len(c.Writes()))
	}
	c.Forget()
	if len(c.Writes()) != 0 {
		t.Error("Forget kept the record")
	}
}

// TestListIsByNamespaceAndName: List filters by resource and namespace ("" all), in a stable order.
func TestListIsByNamespaceAndName(t *testing.T) {
	ctx := context.Background()
	c := New()
	for _, n := range []string{"b", "a"} {
		c.Add(kube.Deployments, deployment(n, 1))
	}
	other := deployment("c", 1)
	other.SetNamespace("another")
	c.Add(kube.Deployments, other)
	c.AddNamespace("ns")
	names := func(l []*unstructured.Unstructured) (out []string) {
		for _, o := range l {
			out = append(out, o.GetNamespace()+"/"+o.GetName())
		}
		return out
	}
	all, _ := c.List(ctx, kube.Deployments, "")
	inNS, _ := c.List(ctx, kube.Deployments, "ns")
	if got := names(all); len(got) != 3 || got[0] != "another/c" || got[1] != "ns/a" || got[2] != "ns/b" {
		t.Errorf("all namespaces: %v", got)
	}
	if got := names(inNS); len(got) != 2 {
		t.Errorf("namespace ns: %v", got)
	}
	if ns, _ := c.Get(ctx, kube.Namespaces, "", "ns"); ns == nil {
		t.Error("AddNamespace stored no Namespace")
	}
}

// TestWaitRolloutNeverSleeps: a Deployment applied is rolled out at once; one whose status says the
// controller gave up fails; one not rolled out ends at once with the timeout a real wait reaches.
func TestWaitRolloutNeverSleeps(t *testing.T) {
	ctx := context.Background()
	c := New()
	start := time.Now()
	if _, err := c.Apply(ctx, kube.Deployments, deployment("ok", 3), false); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitRollout(ctx, "ns", "ok", kube.WaitOptions{Timeout: time.Hour}); err != nil {
		t.Errorf("applied Deployment: %v", err)
	}
	c.DeploymentStatus = func(d *unstructured.Unstructured) {
		d.Object["status"] = map[string]any{"observedGeneration": d.GetGeneration(), "conditions": []any{map[string]any{"type": "Progressing", "reason": kube.TimedOutReason}}}
	}
	_, _ = c.Apply(ctx, kube.Deployments, deployment("failed", 1), false)
	if err := c.WaitRollout(ctx, "ns", "failed", kube.WaitOptions{Timeout: time.Hour}); !kube.IsRolloutFailed(err) {
		t.Errorf("failed rollout: %v", err)
	}
	c.DeploymentStatus = func(*unstructured.Unstructured) {}
	_, _ = c.Apply(ctx, kube.Deployments, deployment("slow", 1), false)
	var timeout *kube.RolloutTimeout
	if err := c.WaitRollout(ctx, "ns", "slow", kube.WaitOptions{Timeout: time.Hour}); !errors.As(err, &timeout) || timeout.Timeout != time.Hour {
		t.Errorf("unfinished rollout: %v", err)
	}
	if err := c.WaitRollout(ctx, "ns", "missing", kube.WaitOptions{}); !kube.IsRolloutTimeout(err) {
		t.Errorf("missing Deployment: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waits took %s", d)
	}
}
