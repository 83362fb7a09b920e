package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// applyNoForce server-side applies obj as brownfieldManager (kubectl) without forcing: what `kubectl apply
// --server-side`, Helm 4 and Argo CD's server-side sync do by default. It returns the error.
func applyNoForce(gvr schema.GroupVersionResource, ns string, obj map[string]any) error {
	data, _ := json.Marshal(obj)
	name := obj["metadata"].(map[string]any)["name"].(string)
	_, err := env.Dynamic.Resource(gvr).Namespace(ns).Patch(context.Background(), name, types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: brownfieldManager})
	return err
}

// TestOwnersOfAdoptedObjectsCanStillApplyThem: mlcanary sends, on an object someone else created,
// only the fields it changes, so it never becomes a co-owner of a field it leaves as it is, and
// the owner's next ordinary (non-forced) server-side apply succeeds after every stage of the flow.
// Istio's lists are atomic: sending the Gateway's spec.servers unchanged made mlcanary co-own the
// whole list, and the platform team's next apply adding an HTTPS server failed with a conflict
// naming mlcanary (break-it review of issue #13, F6). Each case changes a field mlcanary does not:
// the Gateway's servers, the VirtualService's hosts and labels, the Deployment's labels and
// annotations; the Service is never written by mlcanary at all.
func TestOwnersOfAdoptedObjectsCanStillApplyThem(t *testing.T) {
	for _, stage := range []string{"Blue_0", "Blue_50", "Blue_Green", "Rollback"} {
		t.Run(stage, func(t *testing.T) {
			f := newFixture(t)
			d := newD0()
			d.apply(t, f)
			for _, s := range map[string][]string{"Blue_0": {"Blue_0"}, "Blue_50": {"Blue_0", "Blue_50"},
				"Blue_Green": {"Blue_0", "Blue_100", "Blue_Green"}, "Rollback": {"Blue_0", "Blue_50", "Rollback"}}[stage] {
				f.stage(s, imgB)
			}
			gw := runtime.DeepCopyJSON(d.Gateway)
			spec := gw["spec"].(map[string]any)
			spec["servers"] = append(spec["servers"].([]any), map[string]any{
				"port": map[string]any{"number": int64(443), "name": "https", "protocol": "HTTPS"}, "hosts": []any{"model.example.com"},
				"tls": map[string]any{"mode": "SIMPLE", "credentialName": "model-cert"}})
			if err := applyNoForce(kube.Gateways, f.ns, gw); err != nil {
				t.Errorf("the Gateway's owner (%s) cannot add a server after %s: %v", brownfieldManager, stage, err)
			}
			if err := applyNoForce(kube.VirtualServices, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
				"metadata": map[string]any{"name": "mlmodel-virtualservice", "labels": map[string]any{"team": "platform"}},
				"spec":     map[string]any{"hosts": []any{"*"}, "gateways": []any{"mlmodel-gateway"}}}); err != nil {
				t.Errorf("the VirtualService's owner (%s) cannot apply its hosts and gateways with a new label after %s: %v", brownfieldManager, stage, err)
			}
			green := runtime.DeepCopyJSON(d.Deployment)
			meta := green["metadata"].(map[string]any)
			meta["labels"].(map[string]any)["team"] = "platform"
			meta["annotations"] = map[string]any{"platform.example.com/owner": "ml"}
			// the image is the one live now: mlcanary owns the image it wrote (Blue_Green), not the rest
			live := get(t, kube.Deployments, f.ns, "model-green")
			img := unstructuredString(live.Object, "spec", "template", "spec", "containers")
			green["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"] = img
			if err := applyNoForce(kube.Deployments, f.ns, green); err != nil {
				t.Errorf("green's owner (%s) cannot apply its Deployment with a new label after %s: %v", brownfieldManager, stage, err)
			}
			svc := runtime.DeepCopyJSON(d.Service)
			svc["metadata"].(map[string]any)["labels"].(map[string]any)["team"] = "platform"
			if err := applyNoForce(kube.Services, f.ns, svc); err != nil {
				t.Errorf("green's Service's owner (%s) cannot apply it after %s: %v", brownfieldManager, stage, err)
			}
			// what the owners changed is theirs to keep: a re-run writes nothing
			waitReady(t, f.ns, "model-green")
			f.rec.reset()
			f.stage(stage, imgB)
			noWrites(t, f, "re-running "+stage+" after the owners' applies")
		})
	}
}

// unstructuredString is the first container's image in a containers list at path.
func unstructuredString(obj map[string]any, path ...string) string {
	v := any(obj)
	for _, p := range path {
		v = v.(map[string]any)[p]
	}
	return v.([]any)[0].(map[string]any)["image"].(string)
}

// TestAWriteBetweenReadAndApplyIsNotSetBack: a body mlcanary merges from what it read — an
// adopted Deployment's live replicas, the Gateway's servers — carries the resourceVersion it read,
// so a change someone makes between that read and the forced apply (an autoscaler scaling green
// 3 → 5 just as Blue_Green writes it, a person adding a Gateway server just as Blue_0 adds
// mlcanary's) is not set back: the API server answers 409, the stage reads again and sends the
// new value (break-it review of issue #13, F7: the replicas went back to 3).
func TestAWriteBetweenReadAndApplyIsNotSetBack(t *testing.T) {
	hook := func(f *fixture, suffix string, write func()) *bool {
		var once bool
		f.rec.mu.Lock()
		f.rec.beforeWrite = func(req *http.Request) {
			if once || req.Method != http.MethodPatch || !strings.HasSuffix(req.URL.Path, suffix) {
				return
			}
			once = true
			write()
		}
		f.rec.mu.Unlock()
		return &once
	}
	t.Run("replicas of an adopted Deployment", func(t *testing.T) {
		f := newFixture(t)
		newD0().apply(t, f)
		scaleTo(t, f.ns, "model-green", "kube-controller-manager", 3)
		f.stage("Blue_0", imgB)
		// Blue runs --replicas (1) against green's 3: the capacity check would refuse the shift, and
		// this case is about the write after it, so it only warns.
		c := f.cfg("Blue_100", imgB)
		c.CapacityCheck = config.CapacityWarn
		if _, err := f.run(c); err != nil {
			t.Fatalf("Blue_100: %v", err)
		}
		ran := hook(f, "/deployments/model-green", func() {
			if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Patch(context.Background(), "model-green",
				types.MergePatchType, []byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{FieldManager: "kube-controller-manager"}, "scale"); err != nil {
				t.Error(err)
			}
		})
		f.stage("Blue_Green", imgB)
		green := get(t, kube.Deployments, f.ns, "model-green")
		if r, _, _ := unstructured.NestedInt64(green.Object, "spec", "replicas"); !*ran || r != 5 {
			t.Errorf("green's replicas after Blue_Green: %d; the autoscaler set 5 just before mlcanary's apply (hook ran: %v)", r, *ran)
		}
	})
	t.Run("servers of a Gateway", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		d.Gateway["spec"].(map[string]any)["servers"] = []any{map[string]any{"port": map[string]any{"number": int64(8080), "name": "http-8080", "protocol": "HTTP"}, "hosts": []any{"*"}}}
		d.apply(t, f)
		gw := runtime.DeepCopyJSON(d.Gateway)
		gw["spec"].(map[string]any)["servers"] = append(gw["spec"].(map[string]any)["servers"].([]any),
			map[string]any{"port": map[string]any{"number": int64(8443), "name": "http-8443", "protocol": "HTTP"}, "hosts": []any{"*"}})
		ran := hook(f, "/gateways/mlmodel-gateway", func() { applyAs(t, brownfieldManager, kube.Gateways, f.ns, gw) })
		f.stage("Blue_0", imgB)
		servers, _, _ := unstructured.NestedSlice(get(t, kube.Gateways, f.ns, "mlmodel-gateway").Object, "spec", "servers")
		ports := map[int64]bool{}
		for _, s := range servers {
			n, _, _ := unstructured.NestedInt64(s.(map[string]any), "port", "number")
			ports[n] = true
		}
		if !*ran || !ports[8443] || !ports[80] || !ports[8080] {
			t.Errorf("the Gateway's servers after Blue_0 are on ports %v; someone added 8443 just before mlcanary added 80 (hook ran: %v)", ports, *ran)
		}
		f.rec.reset()
		f.stage("Blue_0", imgB)
		noWrites(t, f, "re-running Blue_0")
	})
}
