package engine_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// Issue #8, kind 7: every object a stage touches is checked (selector, labels, immutable fields,
// container, port) before the first write; an incompatible one refuses the stage, exit 1, with
// nothing written, naming the object, the field, the live value and what the stage needs.

// versions returns the resourceVersion of each object of the namespace mlcanary reads or writes
// ("-" when absent): equal snapshots mean nothing was changed.
func versions(t *testing.T, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{
		{kube.Deployments, "model-green"}, {kube.Deployments, "model-blue"}, {kube.Services, "model-svc-green"}, {kube.Services, "model-svc-blue"},
		{kube.Gateways, "mlmodel-gateway"}, {kube.VirtualServices, "mlmodel-virtualservice"},
	} {
		key := kube.Kind(o.gvr) + "/" + o.name
		out[key] = "-"
		if u, err := env.Dynamic.Resource(o.gvr).Namespace(ns).Get(context.Background(), o.name, metav1.GetOptions{}); err == nil {
			out[key] = u.GetResourceVersion()
		}
	}
	return out
}

// refused runs stage and asserts the refusal: the error ends with want, nothing was written, and
// every object is as it was.
func refused(t *testing.T, f *fixture, stage, image, want string) {
	t.Helper()
	before := versions(t, f.ns)
	f.rec.reset()
	_, err := f.try(stage, image)
	if err == nil || !strings.HasSuffix(err.Error(), want) || app.ExitCode(err) != app.ExitFailed {
		t.Errorf("%s: %v (exit %d)\nwant exit 1 and an error ending …%s", stage, err, app.ExitCode(err), want)
	}
	noWrites(t, f, "the refused "+stage)
	after := versions(t, f.ns)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed (resourceVersion %s → %s)", k, v, after[k])
		}
	}
}

func TestIncompatibleObjectsRefuseBeforeAnyWrite(t *testing.T) {
	t.Run("adopted Service on another port", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		d.Service["spec"].(map[string]any)["ports"] = []any{map[string]any{"name": "http", "port": int64(8080), "targetPort": int64(5001)}}
		d.apply(t, f)
		refused(t, f, "Rollback", "", "Service "+f.ns+"/model-svc-green: spec.ports are [8080], but mlcanary routes green's traffic to port 5001 (--port); mlcanary does not change a Service it did not create: add port 5001, or run with --port set to the Service's port")
	})
	t.Run("adopted Deployment whose container listens elsewhere", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		c := d.Deployment["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		c["ports"] = []any{map[string]any{"containerPort": int64(8080)}}
		d.apply(t, f)
		refused(t, f, "Blue_0", imgB, "Deployment "+f.ns+"/model-green: container model declares ports [8080], but Service "+f.ns+"/model-svc-green sends green's traffic to port 5001; mlcanary does not change the ports of a Deployment it did not create: make them agree, or run with --port set to the container's port")
	})
	t.Run("adopted Service that does not select green's pods", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		d.Service["spec"].(map[string]any)["selector"] = map[string]any{"app": "scoring", "model_version": "green"}
		d.apply(t, f)
		refused(t, f, "Rollback", "", "Service "+f.ns+"/model-svc-green: spec.selector is app=scoring,model_version=green, which does not select green's pods (labelled app=model,model_version=green); mlcanary does not change a Service it did not create: make the selector match the pods, or delete the Service so that mlcanary creates it")
	})
	t.Run("adopted Service that would also select blue", func(t *testing.T) {
		f := newFixture(t)
		d := newD0()
		d.Service["spec"].(map[string]any)["selector"] = map[string]any{"app": "model"}
		d.apply(t, f)
		refused(t, f, "Blue_0", imgB, "Service "+f.ns+"/model-svc-green: spec.selector app=model also selects blue's pods (labelled app=model,model_version=blue), so traffic meant for green would reach blue too; add a label that tells the versions apart (e.g. model_version=green)")
	})
	t.Run("immutable selector of mlcanary's Deployment meets another --app", func(t *testing.T) {
		f := newFixture(t)
		f.reach(states[6].path) // Blue_100: green imgA, blue imgB with all traffic
		before := versions(t, f.ns)
		f.rec.reset()
		c := f.cfg("Blue_Green", "")
		c.App = "scoring"
		_, err := f.run(c)
		want := "Deployment " + f.ns + "/model-green: spec.selector is app=model,model_version=green, but this stage writes it with pods labelled app=scoring,model_version=green (--app scoring) and a Deployment's selector cannot be changed; delete the Deployment so that mlcanary creates it again, or run with the --app it was created with"
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("Blue_Green: %v\nwant …%s", err, want)
		}
		noWrites(t, f, "the refused Blue_Green")
		if after := versions(t, f.ns); !maps.Equal(after, before) {
			t.Errorf("objects changed: %v → %v", before, after)
		}
	})
}

// TestAdoptedDeploymentKeepsItsContainer (kind 7, adapting): an adopted Deployment whose only
// container is named scorer gets the new image in that container; no container is added.
func TestAdoptedDeploymentKeepsItsContainer(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	c := d.Deployment["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	c["name"] = "scorer"
	d.apply(t, f)
	for _, s := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_100", ""}, {"Blue_Green", ""}} {
		f.stage(s.stage, s.image)
	}
	jsonEqual(t, "green's containers", field(t, kube.Deployments, f.ns, "model-green", "spec", "template", "spec", "containers"),
		`[{"name":"scorer","image":"`+imgB+`","ports":[{"containerPort":5001,"protocol":"TCP"}],"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}]`)
}

// TestForeignGatewayServerMustServeTheHosts (kind 7): a server someone else defined on
// --gateway-port is used as it is; it is enough that its hosts and --hosts overlap (Istio takes
// the intersection), and when they do not the stage refuses before any write.
func TestForeignGatewayServerMustServeTheHosts(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	d.Gateway["spec"].(map[string]any)["servers"].([]any)[0].(map[string]any)["hosts"] = []any{"model.example.com"}
	d.apply(t, f)
	c := f.cfg("Blue_0", imgB)
	c.Hosts = []string{"model.internal"}
	before := versions(t, f.ns)
	f.rec.reset()
	_, err := f.run(c)
	want := "Gateway " + f.ns + "/mlmodel-gateway: the server on port 80 is not mlcanary's and serves hosts [model.example.com], none of which is among [model.internal] that mlcanary routes (--hosts), so no request through it would reach mlcanary's routes; add them to that server, or use another --gateway or --gateway-port"
	if err == nil || !strings.HasSuffix(err.Error(), want) || app.ExitCode(err) != app.ExitFailed {
		t.Errorf("Blue_0 --hosts model.internal: %v\nwant exit 1 and …%s", err, want)
	}
	noWrites(t, f, "the refused Blue_0")
	if after := versions(t, f.ns); !maps.Equal(after, before) {
		t.Errorf("objects changed: %v → %v", before, after)
	}
	f.stage("Blue_0", imgB) // --hosts "*" overlaps model.example.com
	jsonEqual(t, "servers", field(t, kube.Gateways, f.ns, "mlmodel-gateway", "spec", "servers"),
		`[{"port":{"number":80,"name":"http","protocol":"HTTP"},"hosts":["model.example.com"]}]`)
}
