package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// The recorder's ownership rule (issue #8): a write mlcanary sends changes no field another field
// manager owns, except the fields mlcanary means to own (README "Only its own fields"). Two checks
// run on every applied write, comparing the object just before and just after it:
//   - fieldsOfOthers: every leaf of every other manager's managedFields keeps its value;
//   - istioLists: Istio's lists are atomic (one owner for the whole list), so entries are checked
//     one by one: a route, host, gateway or server that is not mlcanary's survives unchanged, and
//     on mlcanary's own routes and server every field it does not own survives.

func resourceGVR(resource string) (schema.GroupVersionResource, bool) {
	for _, gvr := range []schema.GroupVersionResource{kube.Deployments, kube.Services, kube.Gateways, kube.VirtualServices, kube.HorizontalPodAutoscalers, kube.ScaledObjects} {
		if gvr.Resource == resource {
			return gvr, true
		}
	}
	return schema.GroupVersionResource{}, false
}

// liveObject reads ns/name of resource without going through the recorder (nil when absent).
func liveObject(resource, ns, name string) *unstructured.Unstructured {
	gvr, ok := resourceGVR(resource)
	if !ok {
		return nil
	}
	u, err := env.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return u
}

// checkOwnership compares before and after one of mlcanary's writes and returns the violations.
func checkOwnership(c *config.Config, before, after *unstructured.Unstructured) []string {
	if before == nil || after == nil {
		return nil
	}
	what := before.GetKind() + " " + before.GetNamespace() + "/" + before.GetName()
	var out []string
	for _, v := range fieldsOfOthers(before, after) {
		out = append(out, what+": "+v)
	}
	for _, v := range istioLists(c, before, after) {
		out = append(out, what+": "+v)
	}
	return out
}

// fieldsOfOthers lists the leaf fields owned by managers other than mlcanary that the write changed.
func fieldsOfOthers(before, after *unstructured.Unstructured) []string {
	var out []string
	created := before.GetLabels()[config.ManagedByLabel] == config.ManagedBy // mlcanary labels only what it creates
	for _, mf := range before.GetManagedFields() {
		if mf.Manager == kube.FieldManager || mf.Subresource != "" || mf.FieldsV1 == nil {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields) != nil {
			continue
		}
		walkFields(fields, nil, func(path []string) {
			p := strings.Join(path, ".")
			if mlcanaryOwns(before.GetKind(), created, p) {
				return
			}
			b, bok := resolve(before.Object, path)
			a, aok := resolve(after.Object, path)
			if bok != aok || !reflect.DeepEqual(b, a) {
				out = append(out, fmt.Sprintf("%s owned by %s changed from %s to %s", p, mf.Manager, show(b, bok), show(a, aok)))
			}
		})
	}
	return out
}

func show(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	data, _ := json.Marshal(v)
	return string(data)
}

// walkFields calls leaf with the path of every leaf of a managedFields fieldsV1 tree.
func walkFields(fields map[string]any, path []string, leaf func([]string)) {
	children := 0
	for k, v := range fields {
		if k == "." {
			continue
		}
		children++
		sub, _ := v.(map[string]any)
		walkFields(sub, append(slices.Clone(path), k), leaf)
	}
	if children == 0 && len(path) > 0 {
		leaf(path)
	}
}

// resolve finds the value a fieldsV1 path names: "f:x" a field, "k:{...}" the list element with
// those key fields, "v:..." the set element with that value, "i:N" the Nth element.
func resolve(obj any, path []string) (any, bool) {
	cur := obj
	for _, p := range path {
		kind, arg, _ := strings.Cut(p, ":")
		switch kind {
		case "f":
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[arg]; !ok {
				return nil, false
			}
		case "k", "v", "i":
			l, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			var want any
			_ = json.Unmarshal([]byte(arg), &want)
			found := false
			for i, e := range l {
				if (kind == "k" && keyMatches(e, want)) || (kind == "v" && jsonEqualValues(e, want)) || (kind == "i" && fmt.Sprint(i) == arg) {
					cur, found = e, true
					break
				}
			}
			if !found {
				return nil, false
			}
		}
	}
	return cur, true
}

func keyMatches(elem, key any) bool {
	k, _ := key.(map[string]any)
	e, _ := elem.(map[string]any)
	for f, v := range k {
		if !jsonEqualValues(e[f], v) {
			return false
		}
	}
	return true
}

func jsonEqualValues(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// mlcanaryOwns reports whether the field at path (fieldsV1 notation) is one mlcanary means to own
// on an object of kind: on every object its own annotations; on Deployments the containers'
// images, the replicas and the pull secrets; on objects it created also its labels, selectors and
// ports. Istio's atomic lists are checked entry by entry by istioLists instead.
func mlcanaryOwns(kind string, created bool, path string) bool {
	switch {
	case strings.HasPrefix(path, "f:metadata.f:annotations.f:mlcanary.io/"):
		return true
	case kind == "Deployment" && path == "f:spec.f:replicas":
		// Only a Deployment mlcanary created and no autoscaler scales: an autoscaler's (and a
		// `kubectl scale`'s) replicas are written through the scale subresource, whose entries
		// are checked by the tests of replicas (autoscale_test.go), not here.
		return created
	case (kind == "HorizontalPodAutoscaler" || kind == "ScaledObject") && strings.HasPrefix(path, "f:spec.") && !strings.HasPrefix(path, "f:spec.f:scaleTargetRef"):
		return true // Blue_Green's hand-over of blue's autoscaler settings to green's (README, "Autoscaling")
	case kind == "Deployment" && (strings.HasPrefix(path, "f:spec.f:template.f:spec.f:imagePullSecrets") ||
		(strings.HasPrefix(path, "f:spec.f:template.f:spec.f:containers.") && strings.HasSuffix(path, ".f:image"))):
		return true
	case kind == "VirtualService" && slices.Contains([]string{"f:spec.f:http", "f:spec.f:hosts", "f:spec.f:gateways"}, path):
		return true
	case kind == "Gateway" && path == "f:spec.f:servers":
		return true
	}
	if !created {
		return false
	}
	for _, l := range []string{config.AppLabel, config.VersionLabel, config.ManagedByLabel} {
		if path == "f:metadata.f:labels.f:"+l || path == "f:spec.f:template.f:metadata.f:labels.f:"+l {
			return true
		}
	}
	for _, p := range []string{"f:spec.f:selector", "f:spec.f:ports", "f:spec.f:template.f:spec.f:containers."} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// istioLists checks the entries of a VirtualService's or Gateway's atomic lists.
func istioLists(c *config.Config, before, after *unstructured.Unstructured) []string {
	var out []string
	switch before.GetKind() {
	case "VirtualService":
		out = append(out, routesKept(c, before, after)...)
		for _, l := range []struct{ path, annotation string }{{"hosts", routing.OwnedHostsAnnotation}, {"gateways", routing.OwnedGatewaysAnnotation}} {
			out = append(out, stringsKept(before, after, l.annotation, "spec", l.path)...)
		}
	case "Gateway":
		out = append(out, serversKept(before, after)...)
	}
	return out
}

// routesKept: a route that is not mlcanary's (neither recorded in its annotation nor adoptable,
// by the test's own reading: oracle_test.go) is still there, unchanged; on mlcanary's routes that
// are still there, every field but name, destinations and the first match is unchanged.
func routesKept(c *config.Config, before, after *unstructured.Unstructured) []string {
	var out []string
	now := httpRoutes(after)
	for i, r := range httpRoutes(before) {
		role := roleOf(c, before, r)
		if role == "" {
			if !slices.ContainsFunc(now, func(x map[string]any) bool { return reflect.DeepEqual(x, r) }) {
				name, _, _ := unstructured.NestedString(r, "name")
				out = append(out, fmt.Sprintf("route http[%d] %q %s of someone else was changed or dropped", i, name, show(r, true)))
			}
			continue
		}
		j := slices.IndexFunc(now, func(x map[string]any) bool { return roleOf(c, after, x) == role })
		if j < 0 {
			continue // mlcanary removed its own route
		}
		b, a := othersFields(r), othersFields(now[j])
		if role == routing.DefaultRouteName { // a mirror recorded as mlcanary's is its own (Shadow_N)
			b, a = withoutRecordedMirror(c, before, r, b), withoutRecordedMirror(c, after, now[j], a)
		}
		if !reflect.DeepEqual(a, b) {
			out = append(out, fmt.Sprintf("fields others own on mlcanary's route %s changed from %s to %s", role, show(b, true), show(a, true)))
		}
	}
	return out
}

// withoutRecordedMirror is fields (of vs's default route) without mirror and mirrorPercentage
// when vs records that mirror as mlcanary's ("mlcanary.io/owned-mirror: mlcanary-default") and it
// is still exactly the mirror Shadow_N writes: blue's Service on the port mlcanary's destinations of
// that route use (the stage's --port), nothing else, no `mirrors`. A mirror someone re-pointed under
// the record is theirs.
func withoutRecordedMirror(c *config.Config, vs *unstructured.Unstructured, route, fields map[string]any) map[string]any {
	var port any
	if dests, _, _ := unstructured.NestedSlice(route, "route"); len(dests) > 0 {
		port, _, _ = unstructured.NestedFieldNoCopy(dests[0].(map[string]any), "destination", "port", "number")
	}
	written := map[string]any{"host": c.Objects[config.Blue].Service, "port": map[string]any{"number": port}}
	if vs.GetAnnotations()["mlcanary.io/owned-mirror"] != routing.DefaultRouteName ||
		!reflect.DeepEqual(fields["mirror"], written) || fields["mirrors"] != nil {
		return fields
	}
	out := runtimeClone(fields)
	delete(out, "mirror")
	delete(out, "mirrorPercentage")
	return out
}

func runtimeClone(x any) map[string]any {
	return (&unstructured.Unstructured{Object: x.(map[string]any)}).DeepCopy().Object
}

// stringsKept: an entry of a string list that mlcanary did not record writing is still there.
func stringsKept(before, after *unstructured.Unstructured, annotation string, path ...string) []string {
	var out []string
	ours := strings.Split(before.GetAnnotations()[annotation], ",")
	was, _, _ := unstructured.NestedStringSlice(before.Object, path...)
	now, _, _ := unstructured.NestedStringSlice(after.Object, path...)
	for _, s := range was {
		if !slices.Contains(ours, s) && !slices.Contains(now, s) {
			out = append(out, fmt.Sprintf("%s entry %q of someone else was dropped", strings.Join(path, "."), s))
		}
	}
	return out
}

// serversKept: a server on a port mlcanary did not record is unchanged; on mlcanary's server every
// field but the port and the hosts is unchanged, and hosts it did not record writing stay.
func serversKept(before, after *unstructured.Unstructured) []string {
	var out []string
	ours := strings.Split(before.GetAnnotations()[routing.OwnedPortsAnnotation], ",")
	hosts := strings.Split(before.GetAnnotations()[routing.OwnedHostsAnnotation], ",")
	was, _, _ := unstructured.NestedSlice(before.Object, "spec", "servers")
	now, _, _ := unstructured.NestedSlice(after.Object, "spec", "servers")
	for _, s := range was {
		p, _, _ := unstructured.NestedInt64(s.(map[string]any), "port", "number")
		if !slices.Contains(ours, fmt.Sprint(p)) {
			if !slices.ContainsFunc(now, func(x any) bool { return reflect.DeepEqual(x, s) }) {
				out = append(out, fmt.Sprintf("server on port %d of someone else was changed or dropped", p))
			}
			continue
		}
		j := slices.IndexFunc(now, func(x any) bool {
			q, _, _ := unstructured.NestedInt64(x.(map[string]any), "port", "number")
			return q == p
		})
		if j < 0 {
			continue // mlcanary moved its server to another port
		}
		b, a := runtimeClone(s), runtimeClone(now[j])
		bh, _, _ := unstructured.NestedStringSlice(b, "hosts")
		ah, _, _ := unstructured.NestedStringSlice(a, "hosts")
		for _, h := range bh {
			if !slices.Contains(hosts, h) && !slices.Contains(ah, h) {
				out = append(out, fmt.Sprintf("host %q someone added to mlcanary's server on port %d was dropped", h, p))
			}
		}
		for _, m := range []map[string]any{b, a} {
			delete(m, "port")
			delete(m, "hosts")
		}
		if !reflect.DeepEqual(a, b) {
			out = append(out, fmt.Sprintf("fields others own on mlcanary's server on port %d changed from %s to %s", p, show(b, true), show(a, true)))
		}
	}
	return out
}

// TestRecorderCatchesChangedFieldsOfOthers: the ownership rule itself, on the real API server: a
// write as mlcanary that does what mlcanary did before issue #8 (force-apply whole objects) is
// reported — an adopted Service's selector, a route's timeout, a TLS redirect on someone else's
// server — and a write of only mlcanary's fields is not.
func TestRecorderCatchesChangedFieldsOfOthers(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	d.VirtualService["spec"].(map[string]any)["http"].([]any)[1].(map[string]any)["timeout"] = "30s"
	d.Gateway["spec"].(map[string]any)["servers"].([]any)[0].(map[string]any)["tls"] = map[string]any{"httpsRedirect": true}
	d.apply(t, f)
	c := f.cfg("Blue_0", "")
	forced := func(gvr schema.GroupVersionResource, obj map[string]any) []string {
		name := obj["metadata"].(map[string]any)["name"].(string)
		before := get(t, gvr, f.ns, name)
		applyAs(t, kube.FieldManager, gvr, f.ns, obj)
		return checkOwnership(&c, before, get(t, gvr, f.ns, name))
	}
	want := func(got []string, wantOne string) {
		t.Helper()
		if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, wantOne) }) {
			t.Errorf("violations %q, want one containing %q", got, wantOne)
		}
	}
	want(forced(kube.Services, map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "model-svc-green"},
		"spec": map[string]any{"selector": map[string]any{"app": "other", "model_version": "green"}}}),
		`Service `+f.ns+`/model-svc-green: f:spec.f:selector owned by kubectl changed from {"app":"model","model_version":"green"} to {"app":"other","model_version":"green"}`)
	routes := field(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice", "spec", "http").([]any)
	delete(routes[1].(map[string]any), "timeout")
	want(forced(kube.VirtualServices, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": map[string]any{"name": "mlmodel-virtualservice"},
		"spec": map[string]any{"http": routes}}), `fields others own on mlcanary's route mlcanary-default changed from {"timeout":"30s"} to {}`)
	want(forced(kube.Gateways, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": map[string]any{"name": "mlmodel-gateway"},
		"spec": map[string]any{"servers": []any{map[string]any{"port": map[string]any{"number": int64(80), "name": "http", "protocol": "HTTP"}, "hosts": []any{"*"}}}}}),
		"server on port 80 of someone else was changed or dropped")
	// mlcanary's own fields: the scoring container's image of an adopted Deployment.
	if got := forced(kube.Deployments, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "model-green"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "model", "image": imgB}}}}}}); len(got) != 0 {
		t.Errorf("a write of the image only: %q", got)
	}
}
