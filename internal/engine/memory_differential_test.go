package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/kube/memory"
)

// serverDefaults are the fields the API server defaults in the objects of the differential test
// (apps/v1 and core/v1 SetDefaults_*): present on the server only, so the comparison of what the
// server holds against memory leaves them out.
var serverDefaults = map[string]bool{
	"strategy": true, "revisionHistoryLimit": true, "progressDeadlineSeconds": true, "restartPolicy": true,
	"terminationGracePeriodSeconds": true, "dnsPolicy": true, "securityContext": true, "schedulerName": true,
	"terminationMessagePath": true, "terminationMessagePolicy": true, "imagePullPolicy": true, "resources": true,
	"protocol": true, "clusterIP": true, "clusterIPs": true, "type": true, "sessionAffinity": true,
	"ipFamilies": true, "ipFamilyPolicy": true, "internalTrafficPolicy": true, "targetPort": true,
	"creationTimestamp": true,
}

type diffOp struct {
	name    string
	seed    string // the field manager of a seed (another manager's write); "" for mlcanary's apply
	gvr     schema.GroupVersionResource
	obj     map[string]any
	dryRun  bool
	staleRV bool // the body carries a resourceVersion older than the stored one
}

func diffDeployment(labels map[string]any, spec map[string]any) map[string]any {
	return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "model-green", "labels": labels}, "spec": spec}
}

func diffVS(meta map[string]any, spec map[string]any) map[string]any {
	meta["name"] = "mlmodel-virtualservice"
	return map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": meta, "spec": spec}
}

func container(c map[string]any) map[string]any { return c }

// TestMemoryClusterBehavesLikeTheAPIServer (break-it review of issue #13, F8): the same sequence of
// writes — seeds by other managers (kubectl, helm), then mlcanary's forced server-side applies,
// dry runs and a stale resourceVersion — against memory.Cluster and the server API server leave the
// same objects for what the engine reads: labels, annotations and spec (the server's defaults
// aside), generation (1 on create, +1 only on a spec change), resourceVersion moving only when
// the object changed, the same answer to a dry run, and a 409 Conflict for the stale
// resourceVersion. Covered: a Deployment's containers merged by name and their ports by
// containerPort, env by name, other managers' selector, labels and container kept, a field
// mlcanary stops sending removed, atomic lists of a VirtualService (http) replaced, exportTo kept.
func TestMemoryClusterBehavesLikeTheAPIServer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	server, err := kube.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New()
	mem.AddNamespace(f.ns)
	sel := map[string]any{"app": "model", "model_version": "green"}
	route := func(host string) []any {
		return []any{map[string]any{"name": "r", "route": []any{map[string]any{"destination": map[string]any{"host": host}}}}}
	}
	ops := []diffOp{
		{name: "kubectl creates green", seed: "kubectl", gvr: kube.Deployments, obj: diffDeployment(
			map[string]any{"app": "model", "model_version": "green", "team": "ml"},
			map[string]any{"replicas": int64(1), "selector": map[string]any{"matchLabels": sel},
				"template": map[string]any{"metadata": map[string]any{"labels": sel}, "spec": map[string]any{"containers": []any{
					container(map[string]any{"name": "model", "image": "acr.io/model:41", "ports": []any{map[string]any{"containerPort": int64(5001)}},
						"env": []any{map[string]any{"name": "MODE", "value": "fast"}}}),
					container(map[string]any{"name": "sidecar", "image": "acr.io/logger:1"}),
				}}}})},
		{name: "mlcanary sets the image and replicas", gvr: kube.Deployments, obj: diffDeployment(map[string]any{"mlcanary": "yes"},
			map[string]any{"replicas": int64(2), "template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "model", "image": "acr.io/model:42", "env": []any{map[string]any{"name": "LOG", "value": "1"}}}}}}})},
		{name: "same apply again changes nothing", gvr: kube.Deployments, obj: diffDeployment(map[string]any{"mlcanary": "yes"},
			map[string]any{"replicas": int64(2), "template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "model", "image": "acr.io/model:42", "env": []any{map[string]any{"name": "LOG", "value": "1"}}}}}}})},
		{name: "mlcanary stops sending its label and env", gvr: kube.Deployments, obj: diffDeployment(nil,
			map[string]any{"replicas": int64(2), "template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "model", "image": "acr.io/model:42"}}}}})},
		{name: "a dry run of a new image", gvr: kube.Deployments, dryRun: true, obj: diffDeployment(nil,
			map[string]any{"replicas": int64(2), "template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "model", "image": "acr.io/model:43"}}}}})},
		{name: "helm creates the VirtualService", seed: "helm", gvr: kube.VirtualServices, obj: diffVS(
			map[string]any{"labels": map[string]any{"app.kubernetes.io/managed-by": "Helm"}, "annotations": map[string]any{"meta.helm.sh/release-name": "model"}},
			map[string]any{"hosts": []any{"*"}, "gateways": []any{"mlmodel-gateway"}, "exportTo": []any{"."}, "http": route("model-svc-green")})},
		{name: "mlcanary replaces the routes (an atomic list)", gvr: kube.VirtualServices, obj: diffVS(
			map[string]any{"annotations": map[string]any{"mlcanary.io/stage": "Blue_0"}},
			map[string]any{"http": append(route("model-svc-blue"), route("model-svc-green")...)})},
		{name: "an annotation only: no new generation", gvr: kube.VirtualServices, obj: diffVS(
			map[string]any{"annotations": map[string]any{"mlcanary.io/stage": "Blue_50"}},
			map[string]any{"http": append(route("model-svc-blue"), route("model-svc-green")...)})},
		{name: "a stale resourceVersion is a conflict", gvr: kube.VirtualServices, staleRV: true, obj: diffVS(
			map[string]any{}, map[string]any{"http": route("model-svc-green")})},
		{name: "kubectl creates a Service", seed: "kubectl", gvr: kube.Services, obj: map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": "model-svc-green"}, "spec": map[string]any{"selector": sel,
				"ports": []any{map[string]any{"name": "http", "port": int64(5001), "targetPort": int64(5001)}}}}},
		{name: "mlcanary labels the Service", gvr: kube.Services, obj: map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": "model-svc-green", "labels": map[string]any{"app": "model"}}}},
	}
	for _, op := range ops {
		op.obj["metadata"].(map[string]any)["namespace"] = f.ns
		name := op.obj["metadata"].(map[string]any)["name"].(string)
		before := map[string]*unstructured.Unstructured{}
		for side, c := range map[string]interface {
			Get(context.Context, schema.GroupVersionResource, string, string) (*unstructured.Unstructured, error)
		}{"memory": mem, "server": server} {
			before[side], _ = c.Get(ctx, op.gvr, f.ns, name)
		}
		var answers [2]*unstructured.Unstructured
		var errs [2]error
		if op.seed != "" {
			applyAs(t, op.seed, op.gvr, f.ns, op.obj)
			mem.Add(op.gvr, &unstructured.Unstructured{Object: op.obj})
		} else {
			for i, c := range []interface {
				Apply(context.Context, schema.GroupVersionResource, *unstructured.Unstructured, bool) (*unstructured.Unstructured, error)
			}{mem, server} {
				u := (&unstructured.Unstructured{Object: op.obj}).DeepCopy()
				if op.staleRV {
					u.SetResourceVersion(fmt.Sprint(map[int]string{0: "1", 1: "1"}[i]))
				}
				answers[i], errs[i] = c.Apply(ctx, op.gvr, u, op.dryRun)
			}
		}
		if op.staleRV {
			for i, side := range []string{"memory", "server"} {
				if !apierrors.IsConflict(errs[i]) {
					t.Errorf("%s: %s answered %v, want a 409 Conflict", op.name, side, errs[i])
				}
			}
		} else if errs[0] != nil || errs[1] != nil {
			t.Fatalf("%s: memory %v, server %v", op.name, errs[0], errs[1])
		}
		m, _ := mem.Get(ctx, op.gvr, f.ns, name)
		s, _ := server.Get(ctx, op.gvr, f.ns, name)
		compareObjects(t, op.name, m, s)
		if answers[0] != nil {
			compareObjects(t, op.name+" (the answer)", answers[0], answers[1])
		}
		if op.gvr != kube.Deployments && before["memory"] != nil { // the Deployment controller writes status on the server
			memMoved := before["memory"].GetResourceVersion() != m.GetResourceVersion()
			srvMoved := before["server"].GetResourceVersion() != s.GetResourceVersion()
			if memMoved != srvMoved {
				t.Errorf("%s: resourceVersion moved in memory %v, on the server %v", op.name, memMoved, srvMoved)
			}
		}
	}
}

// compareObjects holds memory's object m to the server's s: the same generation, and the same
// labels, annotations and spec except the server's defaults (memory's are all on the server; the
// server's, defaults aside, all in memory).
func compareObjects(t *testing.T, step string, m, s *unstructured.Unstructured) {
	t.Helper()
	if m.GetGeneration() != s.GetGeneration() {
		t.Errorf("%s: generation %d in memory, %d on the server", step, m.GetGeneration(), s.GetGeneration())
	}
	for _, field := range []string{"labels", "annotations"} {
		mv, _, _ := unstructured.NestedFieldNoCopy(m.Object, "metadata", field)
		sv, _, _ := unstructured.NestedFieldNoCopy(s.Object, "metadata", field)
		if fmt.Sprint(mv) != fmt.Sprint(sv) {
			t.Errorf("%s: metadata.%s %v in memory, %v on the server", step, field, mv, sv)
		}
	}
	if !within(m.Object["spec"], s.Object["spec"], nil) || !within(s.Object["spec"], m.Object["spec"], serverDefaults) {
		t.Errorf("%s: spec differs\nmemory: %v\nserver: %v", step, m.Object["spec"], s.Object["spec"])
	}
}

// within reports whether every field of a, except those named in skip, is in b with the same value
// (lists item by item, in order).
func within(a, b any, skip map[string]bool) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range a {
			if skip[k] {
				continue
			}
			if !within(v, bm[k], skip) {
				return false
			}
		}
		return true
	case []any:
		bl, ok := b.([]any)
		if !ok || len(bl) != len(a) {
			return false
		}
		for i := range a {
			if !within(a[i], bl[i], skip) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b) || fmt.Sprint(a) == fmt.Sprint(b)
}
