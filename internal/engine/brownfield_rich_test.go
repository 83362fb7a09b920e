package engine_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// These two cases held in the brownfield break-it review of issue #13 and are kept as regression
// tests of what it tried: a namespace as a platform team has it, and a mirror someone adds to
// mlcanary's own route.

// TestRichBrownfieldNamespaceRerunsWriteNothing: a namespace as a platform team really has it —
// green with a log-shipper sidecar declared first, strategy Recreate, an HPA that scaled it to 3,
// kubectl's last-applied annotation; a Gateway with an HTTPS server (credentialName) besides the
// HTTP one; a VirtualService exported to its namespace with retries, a timeout and a corsPolicy on
// the default route; istiod writing status — goes through the documented flow, and each stage
// re-run at once writes nothing.
func TestRichBrownfieldNamespaceRerunsWriteNothing(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	d.Deployment["metadata"].(map[string]any)["annotations"] = map[string]any{"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"apps/v1","kind":"Deployment"}`}
	spec := d.Deployment["spec"].(map[string]any)
	spec["strategy"] = map[string]any{"type": "Recreate"}
	pod := spec["template"].(map[string]any)["spec"].(map[string]any)
	pod["containers"] = append([]any{map[string]any{"name": "log-shipper", "image": "fluent/fluent-bit:3.0"}}, pod["containers"].([]any)...)
	d.Gateway["spec"].(map[string]any)["servers"] = append(d.Gateway["spec"].(map[string]any)["servers"].([]any), map[string]any{
		"port": map[string]any{"number": int64(443), "name": "https", "protocol": "HTTPS"}, "hosts": []any{"model.example.com"},
		"tls": map[string]any{"mode": "SIMPLE", "credentialName": "model-cert"}})
	vsSpec := d.VirtualService["spec"].(map[string]any)
	vsSpec["exportTo"] = []any{"."}
	def := d0Routes(d)[1].(map[string]any)
	def["timeout"] = "30s"
	def["retries"] = map[string]any{"attempts": int64(3), "perTryTimeout": "10s", "retryOn": "5xx"}
	def["corsPolicy"] = map[string]any{"allowOrigins": []any{map[string]any{"exact": "https://app.example.com"}}}
	d.apply(t, f)
	hpaFor(t, f.ns, "model-green")
	scaleTo(t, f.ns, "model-green", "kube-controller-manager", 3)
	for _, s := range []string{"Blue_0@" + imgB, "Blue_50", "Blue_100", "Blue_Green", "Green_100"} {
		stage, image := cut(s)
		if image == "" {
			image = imgB
		}
		f.stage(stage, image)
		statusWrite(t, f.ns)
		f.rec.reset()
		f.stage(stage, image)
		noWrites(t, f, "re-running "+stage+" on the brownfield namespace")
	}
	green := get(t, kube.Deployments, f.ns, "model-green")
	if r, _, _ := unstructured.NestedInt64(green.Object, "spec", "replicas"); r != 3 {
		t.Errorf("green's replicas (HPA's 3) are %d after the flow", r)
	}
	cs, _, _ := unstructured.NestedSlice(green.Object, "spec", "template", "spec", "containers")
	if len(cs) != 2 {
		t.Errorf("green's containers after the flow: %v", cs)
	}
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	if e, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "exportTo"); len(e) != 1 {
		t.Errorf("exportTo after the flow: %v", e)
	}
}

// TestMirrorToBlueOnOurRouteKeepsBlueOnRollback: at Blue_50 the platform team adds shadow traffic to
// mlcanary's default route (mirror: model-svc-blue, 10%), a field README says mlcanary keeps on its
// own routes. Rollback then routes everything to green, keeps the mirror as it is, and deletes
// blue's Deployment and Service: the VirtualService mirrors to a Service that no longer exists.
// README: a route to a version is looked for "in HTTP, TCP and TLS routes and in mirrors", and no
// route ever points at a version whose Deployment is missing. Expected: the mirror to blue is
// either removed with blue's routes or it keeps blue (as a route of someone else's would);
// it held in the review: blue is kept while the mirror names it.
func TestMirrorToBlueOnOurRouteKeepsBlueOnRollback(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Blue_50", imgB)
	editVS(t, f.ns, func(r map[string]any) {
		r["mirror"] = map[string]any{"host": "model-svc-blue", "port": map[string]any{"number": int64(5001)}}
		r["mirrorPercentage"] = map[string]any{"value": 10.0}
	})
	_, err := f.try("Rollback", "")
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	_, blueErr := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Get(context.Background(), "model-blue", metav1.GetOptions{})
	mirrorsBlue := false
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for _, r := range routes {
		h, _, _ := unstructured.NestedString(r.(map[string]any), "mirror", "host")
		mirrorsBlue = mirrorsBlue || h == "model-svc-blue"
	}
	t.Logf("Rollback: %v; VirtualService mirrors to blue: %v; blue Deployment: %v", err, mirrorsBlue, blueErr)
	if mirrorsBlue && blueErr != nil {
		t.Errorf("after Rollback the VirtualService still mirrors to model-svc-blue, whose Deployment was deleted")
	}
}
