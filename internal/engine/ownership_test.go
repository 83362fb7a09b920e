package engine_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// Issue #8, kinds 2 and 3: mlcanary changes only the fields it owns, and which routes are its own
// is recorded, not guessed. Every case starts from D0 (the documented setup, applied as kubectl).

// field reads the value at path of object ns/name, failing the test when it is absent.
func field(t *testing.T, gvr schema.GroupVersionResource, ns, name string, path ...string) any {
	t.Helper()
	v, found, err := unstructured.NestedFieldCopy(get(t, gvr, ns, name).Object, path...)
	if err != nil || !found {
		t.Fatalf("%s %s/%s has no %s (%v)", kube.Kind(gvr), ns, name, strings.Join(path, "."), err)
	}
	return v
}

// jsonEqual fails the test when got is not the value the JSON text want describes.
func jsonEqual(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation for %s: %v", what, err)
	}
	g, _ := json.Marshal(got)
	var gn any
	_ = json.Unmarshal(g, &gn)
	if !reflect.DeepEqual(gn, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, want)
	}
}

// noWrites fails the test when the recorder counted a write since its last reset.
func noWrites(t *testing.T, f *fixture, what string) {
	t.Helper()
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("%s wrote %v, want nothing", what, writes)
	}
}

// The routes the documented flow ends up with, as JSON, with extra fields spliced in.
const (
	greenHeaderJSON = `{"name":"mlcanary-green","match":[{"uri":{"prefix":"/score"},"headers":{"x-api-version":{"exact":"green"}}}],"route":[{"destination":{"host":"model-svc-green","port":{"number":5001}},"weight":100}]%s}`
	blueHeaderJSON  = `{"name":"mlcanary-blue","match":[{"uri":{"prefix":"/score"},"headers":{"x-api-version":{"exact":"blue"}}}],"route":[{"destination":{"host":"model-svc-blue","port":{"number":5001}},"weight":100}]%s}`
	greenOnlyJSON   = `{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green","port":{"number":5001}},"weight":100}]%s}`
	halfJSON        = `{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green","port":{"number":5001}},"weight":50},{"destination":{"host":"model-svc-blue","port":{"number":5001}},"weight":50}]%s}`
)

func with(tmpl, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return strings.Replace(tmpl, "%s", extra, 1)
}

func routesOf(t *testing.T, f *fixture) any {
	t.Helper()
	return field(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice", "spec", "http")
}

// TestOwnRoutesKeepOtherFields (kind 2): timeout, retries and header manipulation someone adds to
// the routes mlcanary adopted survive Blue_0, Blue_50 and Rollback, and a re-run writes nothing.
func TestOwnRoutesKeepOtherFields(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Rollback", "") // adopts D0's two routes
	routes := routesOf(t, f).([]any)
	extra := `"timeout":"30s","retries":{"attempts":3,"perTryTimeout":"2s"},"headers":{"request":{"set":{"x-team":"ml"}}}`
	var e map[string]any
	_ = json.Unmarshal([]byte("{"+extra+"}"), &e)
	for _, r := range routes {
		for k, v := range e {
			r.(map[string]any)[k] = v
		}
	}
	applyAs(t, brownfieldManager, kube.VirtualServices, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "mlmodel-virtualservice"}, "spec": map[string]any{"http": routes}})

	f.stage("Blue_0", imgB)
	jsonEqual(t, "routes after Blue_0", routesOf(t, f), "["+with(blueHeaderJSON, "")+","+with(greenHeaderJSON, extra)+","+with(greenOnlyJSON, extra)+"]")
	f.stage("Blue_50", "")
	jsonEqual(t, "routes after Blue_50", routesOf(t, f), "["+with(blueHeaderJSON, "")+","+with(greenHeaderJSON, extra)+","+with(halfJSON, extra)+"]")
	f.rec.reset()
	f.stage("Blue_50", "")
	noWrites(t, f, "a re-run of Blue_50")
	f.stage("Rollback", "")
	jsonEqual(t, "routes after Rollback", routesOf(t, f), "["+with(greenHeaderJSON, extra)+","+with(greenOnlyJSON, extra)+"]")
}

// TestGatewayServerFieldsSurvive (kind 2): a TLS redirect on a server someone else defined (D0's
// port 80) is never touched, and one added to the server mlcanary created survives its writes.
func TestGatewayServerFieldsSurvive(t *testing.T) {
	t.Run("server of D0", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		d.Gateway["spec"].(map[string]any)["servers"].([]any)[0].(map[string]any)["tls"] = map[string]any{"httpsRedirect": true}
		d.apply(t, f)
		f.stage("Rollback", "")
		f.stage("Blue_0", imgB)
		jsonEqual(t, "servers", field(t, kube.Gateways, f.ns, "mlmodel-gateway", "spec", "servers"),
			`[{"port":{"number":80,"name":"http","protocol":"HTTP"},"hosts":["*"],"tls":{"httpsRedirect":true}}]`)
		// Not recorded as mlcanary's, so a later --gateway-port never removes it.
		if got, ok := get(t, kube.Gateways, f.ns, "mlmodel-gateway").GetAnnotations()["mlcanary.io/owned-ports"]; ok {
			t.Errorf("owned-ports annotation %q on a Gateway whose server mlcanary did not create", got)
		}
	})
	t.Run("server mlcanary created", func(t *testing.T) {
		f := newFixture(t)
		f.reach(states[4].path) // Blue_0
		applyAs(t, "platform", kube.Gateways, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
			"metadata": map[string]any{"name": "mlmodel-gateway"}, "spec": map[string]any{"servers": []any{
				map[string]any{"port": map[string]any{"number": int64(80), "name": "http", "protocol": "HTTP"}, "hosts": []any{"*"}, "tls": map[string]any{"httpsRedirect": true}}}}})
		f.rec.reset()
		f.stage("Blue_50", imgB)
		jsonEqual(t, "servers", field(t, kube.Gateways, f.ns, "mlmodel-gateway", "spec", "servers"),
			`[{"port":{"number":80,"name":"http","protocol":"HTTP"},"hosts":["*"],"tls":{"httpsRedirect":true}}]`)
		f.rec.reset()
		f.stage("Blue_50", imgB)
		noWrites(t, f, "a re-run of Blue_50")
	})
	t.Run("selector of an adopted Gateway", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		d.Gateway["spec"].(map[string]any)["selector"] = map[string]any{"istio": "internal-ingress"}
		d.apply(t, f)
		f.stage("Blue_0", imgB)
		jsonEqual(t, "selector", field(t, kube.Gateways, f.ns, "mlmodel-gateway", "spec", "selector"), `{"istio":"internal-ingress"}`)
	})
}

// TestAdoptedServiceSelectorIsNeverRewritten (kind 2): with app: scoring on green's Deployment,
// pods and Service, the whole flow runs and green's Service keeps selecting green's pods.
func TestAdoptedServiceSelectorIsNeverRewritten(t *testing.T) {
	f := newFixture(t)
	d := scoringD0()
	d.apply(t, f)
	selects := `{"app":"scoring","model_version":"green"}`
	for _, s := range []struct{ stage, image string }{{"Rollback", ""}, {"Blue_0", imgB}, {"Blue_50", ""}, {"Blue_100", ""}, {"Blue_Green", ""}, {"Green_100", ""}} {
		f.stage(s.stage, s.image)
		jsonEqual(t, s.stage+": green Service selector", field(t, kube.Services, f.ns, "model-svc-green", "spec", "selector"), selects)
		jsonEqual(t, s.stage+": green pod labels", field(t, kube.Deployments, f.ns, "model-green", "spec", "template", "metadata", "labels"), selects)
		jsonEqual(t, s.stage+": green selector", field(t, kube.Deployments, f.ns, "model-green", "spec", "selector"), `{"matchLabels":`+selects+`}`)
	}
	if _, images := f.live(); images["green"] != imgB || images["blue"] != "" {
		t.Errorf("images after Green_100: %v", images)
	}
	if l := get(t, kube.Services, f.ns, "model-svc-green").GetLabels()["app.kubernetes.io/managed-by"]; l != "" {
		t.Errorf("adopted Service labelled managed-by %q", l)
	}
}

// scoringD0 is D0 with app: scoring instead of app: model on green's Deployment, pods and Service.
func scoringD0() *d0 {
	d := newD0()
	labels := map[string]any{"app": "scoring", "model_version": "green"}
	d.Deployment["metadata"].(map[string]any)["labels"] = labels
	spec := d.Deployment["spec"].(map[string]any)
	spec["selector"] = map[string]any{"matchLabels": labels}
	spec["template"].(map[string]any)["metadata"] = map[string]any{"labels": labels}
	d.Service["metadata"].(map[string]any)["labels"] = labels
	d.Service["spec"].(map[string]any)["selector"] = labels
	return d
}

// TestPodTemplateMetadataOfOthersSurvives (kind 2): a Helm label and annotation on the pod
// template of an adopted Deployment survive Blue_Green, which changes its image.
func TestPodTemplateMetadataOfOthersSurvives(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	tmpl := d.Deployment["spec"].(map[string]any)["template"].(map[string]any)
	tmpl["metadata"] = map[string]any{"labels": map[string]any{"app": "model", "model_version": "green", "helm.sh/chart": "scorer-1.2.0"},
		"annotations": map[string]any{"prometheus.io/scrape": "true"}}
	d.apply(t, f)
	for _, s := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_100", ""}, {"Blue_Green", ""}} {
		f.stage(s.stage, s.image)
	}
	jsonEqual(t, "green pod template metadata", field(t, kube.Deployments, f.ns, "model-green", "spec", "template", "metadata"),
		`{"labels":{"app":"model","model_version":"green","helm.sh/chart":"scorer-1.2.0"},"annotations":{"prometheus.io/scrape":"true"}}`)
	if _, images := f.live(); images["green"] != imgB {
		t.Errorf("green's image after Blue_Green: %v", images)
	}
}

// TestRouteOwnershipIsRecorded (kind 3): which routes are mlcanary's is recorded when it adopts
// them; adoption tolerates extra fields; a name alone makes no route mlcanary's.
func TestRouteOwnershipIsRecorded(t *testing.T) {
	echo := map[string]any{"destination": map[string]any{"host": "echo", "port": map[string]any{"number": int64(80)}}}
	t.Run("catch-all with a timeout is adopted", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		http := d.VirtualService["spec"].(map[string]any)["http"].([]any)
		http[1].(map[string]any)["timeout"] = "30s"
		d.apply(t, f)
		f.stage("Rollback", "")
		jsonEqual(t, "routes", routesOf(t, f), "["+with(greenHeaderJSON, "")+","+with(greenOnlyJSON, `"timeout":"30s"`)+"]")
		if got := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").GetAnnotations()["mlcanary.io/owned-routes"]; got != "mlcanary-green,mlcanary-default" {
			t.Errorf("owned-routes annotation: %q", got)
		}
	})
	t.Run("unnamed header route with header manipulation is adopted", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		http := d.VirtualService["spec"].(map[string]any)["http"].([]any)
		http[0].(map[string]any)["headers"] = map[string]any{"response": map[string]any{"add": map[string]any{"x-served-by": "green"}}}
		d.apply(t, f)
		f.stage("Blue_0", imgB)
		extra := `"headers":{"response":{"add":{"x-served-by":"green"}}}`
		jsonEqual(t, "routes", routesOf(t, f), "["+with(blueHeaderJSON, "")+","+with(greenHeaderJSON, extra)+","+with(greenOnlyJSON, "")+"]")
	})
	t.Run("a route named like mlcanary's is not its", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		spec := d.VirtualService["spec"].(map[string]any)
		foo := map[string]any{"name": "mlcanary-foo", "match": []any{map[string]any{"uri": map[string]any{"prefix": "/foo"}}}, "route": []any{echo}}
		spec["http"] = append([]any{foo}, spec["http"].([]any)...)
		d.apply(t, f)
		f.stage("Blue_0", imgB)
		f.stage("Rollback", "")
		jsonEqual(t, "routes", routesOf(t, f), `[`+with(greenHeaderJSON, "")+`,{"name":"mlcanary-foo","match":[{"uri":{"prefix":"/foo"}}],"route":[{"destination":{"host":"echo","port":{"number":80}}}]},`+with(greenOnlyJSON, "")+"]")
	})
	t.Run("a foreign route with mlcanary's name is refused, named", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		http := d.VirtualService["spec"].(map[string]any)["http"].([]any)
		http[1] = map[string]any{"name": "mlcanary-default", "route": []any{echo}}
		d.apply(t, f)
		f.rec.reset()
		_, err := f.try("Blue_0", imgB)
		want := `route http[1] "mlcanary-default" (no match → echo:80) is not mlcanary's (it sends traffic to echo, which is not model-svc-green or model-svc-blue) but has the name of a route mlcanary writes; rename it`
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("Blue_0: %v\nwant …%s", err, want)
		}
		noWrites(t, f, "the refused Blue_0")
	})
	t.Run("a foreign catch-all is refused, named with the real reason", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		http := d.VirtualService["spec"].(map[string]any)["http"].([]any)
		http[1] = map[string]any{"route": []any{echo}, "timeout": "30s"}
		d.apply(t, f)
		f.rec.reset()
		_, err := f.try("Rollback", "")
		want := `route http[1] (no match → echo:80) is not mlcanary's (it sends traffic to echo, which is not model-svc-green or model-svc-blue) and matches every request, so mlcanary's default route after it would never be used; give it a match or remove it`
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("Rollback: %v\nwant …%s", err, want)
		}
		noWrites(t, f, "the refused Rollback")
	})
}

// TestAdoptedIstioObjectsKeepTheirLabels (kind 2): labels on a VirtualService and a Gateway that
// someone else created keep their values, and mlcanary's managed-by label is not added to them.
func TestAdoptedIstioObjectsKeepTheirLabels(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	labels := map[string]any{"app": "scoring", "app.kubernetes.io/managed-by": "Helm"}
	d.VirtualService["metadata"].(map[string]any)["labels"] = labels
	d.Gateway["metadata"].(map[string]any)["labels"] = labels
	d.apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Blue_50", "")
	for _, o := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{kube.VirtualServices, "mlmodel-virtualservice"}, {kube.Gateways, "mlmodel-gateway"}} {
		jsonEqual(t, kube.Kind(o.gvr)+" labels", field(t, o.gvr, f.ns, o.name, "metadata", "labels"), `{"app":"scoring","app.kubernetes.io/managed-by":"Helm"}`)
	}
}
