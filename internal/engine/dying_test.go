package engine_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// holdDeleting puts a finalizer nobody removes on ns/name and deletes it, so it stays with a
// deletionTimestamp (a `kubectl delete --cascade=foreground`, or a controller's finalizer still
// running) while everything else about it — a Deployment's status "available" — is unchanged.
func holdDeleting(t *testing.T, gvr schema.GroupVersionResource, ns, name string) {
	t.Helper()
	ctx := context.Background()
	r := env.Dynamic.Resource(gvr).Namespace(ns)
	if _, err := r.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"finalizers":["platform.example.com/hold"]}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = r.Patch(context.Background(), name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	})
}

// refusedForDying checks that a stage was refused before any write with one sentence naming the
// object being deleted and its finalizer, that traffic is as before, and that a re-run is refused
// the same way, again with zero writes.
func refusedForDying(t *testing.T, f *fixture, stage, image, object string) {
	t.Helper()
	before, _ := f.live()
	for run := range 2 {
		f.rec.reset()
		_, err := f.try(stage, image)
		_, writes := f.rec.counts()
		if err == nil || !strings.Contains(err.Error(), object+" is being deleted") || !strings.Contains(err.Error(), "platform.example.com/hold") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s (run %d) with %s being deleted: %v; want one sentence naming it and its finalizer", stage, run+1, object, err)
		}
		if len(writes) > 0 {
			t.Errorf("%s (run %d) wrote %v before refusing", stage, run+1, writes)
		}
		if after, _ := f.live(); !after.Equal(before) {
			t.Errorf("%s (run %d) moved traffic from %v to %v", stage, run+1, before, after)
		}
	}
}

// TestRollbackRefusesAGreenBeingDeleted: on Blue_100, green's Deployment is being deleted (its
// status still says available). Rollback must not send every request to it and delete blue:
// nothing would serve once the finalizer finishes. It refuses; traffic stays on blue.
func TestRollbackRefusesAGreenBeingDeleted(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Blue_100", imgB)
	holdDeleting(t, kube.Deployments, f.ns, "model-green")
	refusedForDying(t, f, "Rollback", "", "Deployment "+f.ns+"/model-green")
	get(t, kube.Deployments, f.ns, "model-blue")
}

// TestStagesRouteNothingToAVersionBeingDeleted: a version whose Deployment or Service is being
// deleted counts as absent for every decision, so no stage gives it a route or writes to it.
func TestStagesRouteNothingToAVersionBeingDeleted(t *testing.T) {
	for _, c := range []struct {
		name, stage string
		gvr         schema.GroupVersionResource
		object      string
	}{
		{"Blue_50, blue's Deployment", "Blue_50", kube.Deployments, "model-blue"},
		{"Blue_50, blue's Service", "Blue_50", kube.Services, "model-svc-blue"},
		{"Blue_100, green's Service", "Blue_100", kube.Services, "model-svc-green"},
		{"Blue_0 again, green's Deployment", "Blue_0", kube.Deployments, "model-green"},
		{"Blue_0 again, blue's Deployment", "Blue_0", kube.Deployments, "model-blue"},
		{"Rollback, green's Service", "Rollback", kube.Services, "model-svc-green"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			newD0().apply(t, f)
			f.stage("Blue_0", imgB)
			holdDeleting(t, c.gvr, f.ns, c.object)
			refusedForDying(t, f, c.stage, imgB, kube.Kind(c.gvr)+" "+f.ns+"/"+c.object)
		})
	}
}

// TestBlueGreenRefusesAGreenBeingDeleted: Blue_Green would write blue's image into a green that is
// going away and wait for it; refused before any write.
func TestBlueGreenRefusesAGreenBeingDeleted(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Blue_100", imgB)
	holdDeleting(t, kube.Deployments, f.ns, "model-green")
	refusedForDying(t, f, "Blue_Green", imgB, "Deployment "+f.ns+"/model-green")
}

// TestNoRoutesOntoAVirtualServiceOrGatewayBeingDeleted: the VirtualService or the Gateway the
// routes are bound to being deleted refuses every stage that writes routes.
func TestNoRoutesOntoAVirtualServiceOrGatewayBeingDeleted(t *testing.T) {
	for _, c := range []struct {
		gvr    schema.GroupVersionResource
		object string
	}{{kube.VirtualServices, "mlmodel-virtualservice"}, {kube.Gateways, "mlmodel-gateway"}} {
		t.Run(c.object, func(t *testing.T) {
			f := newFixture(t)
			newD0().apply(t, f)
			f.stage("Blue_0", imgB)
			holdDeleting(t, c.gvr, f.ns, c.object)
			refusedForDying(t, f, "Blue_50", imgB, kube.Kind(c.gvr)+" "+f.ns+"/"+c.object)
		})
	}
}

// TestRollbackRemovesABlueBeingDeleted: removing a version that is being deleted is allowed:
// Rollback routes everything to green and deletes blue, as with a live blue.
func TestRollbackRemovesABlueBeingDeleted(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Blue_50", imgB)
	holdDeleting(t, kube.Deployments, f.ns, "model-blue")
	f.stage("Rollback", "")
	if r, _ := f.live(); r.Weights[config.Green] != 100 || r.References(config.Blue) {
		t.Errorf("after Rollback with blue being deleted: %v", r)
	}
	f.rec.reset()
	f.stage("Rollback", "")
	noWrites(t, f, "re-running Rollback")
}
