package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// detecting is the fixture's Blue_0 config as the front ends build it without --gateway-selector:
// the stage detects the ingress gateway, choosing the add-on's by ingress.
func (f *fixture) detecting(ingress string) config.Config {
	c := f.cfg("Blue_0", imgA)
	c.DetectGateway, c.Ingress = true, ingress
	return c
}

// gatewaySelector is the selector of mlcanary's Gateway in the fixture's namespace.
func (f *fixture) gatewaySelector() string {
	f.t.Helper()
	gw, err := env.Dynamic.Resource(kube.Gateways).Namespace(f.ns).Get(context.Background(), "mlmodel-gateway", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	sel, _, _ := unstructured.NestedStringMap(gw.Object, "spec", "selector")
	var s []string
	for k, v := range sel {
		s = append(s, k+"="+v)
	}
	return strings.Join(s, ",")
}

func (f *fixture) labelNamespace(patch string) {
	f.t.Helper()
	if _, err := env.Dynamic.Resource(kube.Namespaces).Patch(context.Background(), f.ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// fixtureOn creates testdata/ingress/NAME.yaml on the shared API server until the test ends (or
// the returned func is called).
func fixtureOn(t *testing.T, name string) func() {
	t.Helper()
	remove, err := env.IngressFixture(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	done := false
	stop := func() {
		if !done {
			done = true
			if err := remove(context.Background()); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestIngressGatewayDetected runs Blue_0 without --gateway-selector against the ingress gateways
// of each Istio installation, shaped as they install them (internal/testenv/testdata/ingress):
// open-source Istio's (which every test API server has), Istio's gateway Helm chart's and AKS's
// Istio add-on's, alone and together. The Gateway mlcanary creates selects the one found (the
// add-on's external one unless --ingress internal); several, or none, refuse the stage before any
// write, in one sentence naming what was found and the input to set. It also checks the sidecar-
// injection warning against each. Not parallel: it changes the cluster-wide gateways, which only
// stages that detect (none of the parallel tests) look at.
func TestIngressGatewayDetected(t *testing.T) {
	shared.Env(t)
	refusedWith := func(f *fixture, c config.Config, want string) {
		t.Helper()
		f.rec.reset()
		_, err := f.run(c)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") || app.ExitCode(err) != app.ExitFailed {
			t.Errorf("got %v (exit %d), want exit 1 and one line containing %q", err, app.ExitCode(err), want)
		}
		noWrites(t, f, "the refused Blue_0")
	}
	holds := func(f *fixture, c config.Config, selector string) *summary.Result {
		t.Helper()
		res, err := f.run(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.gatewaySelector(); got != selector {
			t.Errorf("the Gateway selects %s, want %s", got, selector)
		}
		return res
	}

	// Open-source Istio: istio=ingressgateway, revision default; the namespace's istio-injection=enabled injects.
	f := newFixture(t)
	res := holds(f, f.detecting(config.IngressAuto), "istio=ingressgateway")
	if len(res.Warnings) != 0 {
		t.Errorf("open-source Istio, istio-injection=enabled: warnings %q", res.Warnings)
	}

	// Open-source Istio and the Helm chart's gateway: which one is not guessed.
	removeHelm := fixtureOn(t, "helm-gateway")
	f = newFixture(t)
	refusedWith(f, f.detecting(config.IngressAuto), "several Istio ingress gateways were found: istio-ingress/istio-ingress (istio=ingress), istio-system/istio-ingressgateway (istio=ingressgateway); set --gateway-selector")
	removeHelm()

	// The add-on next to open-source Istio: --ingress chooses the add-on's.
	fixtureOn(t, "aks-addon")
	f = newFixture(t)
	refusedWith(f, f.detecting(config.IngressAuto), "several Istio ingress gateways were found")
	res = holds(f, f.detecting(config.IngressInternal), "istio=aks-istio-ingressgateway-internal")
	want := "namespace " + f.ns + " is labelled istio-injection=enabled, which AKS's Istio add-on ignores: its pods get no Istio sidecar; label it istio.io/rev=asm-1-28 instead"
	if len(res.Warnings) != 1 || !strings.HasPrefix(res.Warnings[0], want) || !strings.Contains(summary.Markdown(res), "> **Warning:** namespace") {
		t.Errorf("add-on, istio-injection=enabled: warnings %q, want %q", res.Warnings, want)
	}

	// A stage that creates no pods on an existing Gateway keeps its selector without looking for
	// the gateways again (liveSelector), Rollback included: several gateways refuse none of them.
	for _, stage := range []string{"Blue_100", "Blue_Green", "Green_100", "Rollback"} {
		c := f.cfg(stage, "")
		c.DetectGateway, c.Ingress = true, config.IngressInternal
		if stage == "Rollback" {
			c.Ingress = config.IngressAuto
			f.rec.reset()
		}
		var err error
		if res, err = f.run(c); err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
	}
	if got := f.gatewaySelector(); got != "istio=aks-istio-ingressgateway-internal" || len(res.Warnings) != 0 || listedServices(f) {
		t.Errorf("Rollback on the live Gateway: the Gateway selects %s, warnings %q, listed Services: %v; want the live selector kept, nothing looked for", got, res.Warnings, listedServices(f))
	}
	// Rollback, the failure path, is not refused when it must look for them (its Gateway was
	// deleted) and finds several: it recreates the Gateway with Istio's default, with a warning.
	if err := env.Dynamic.Resource(kube.Gateways).Namespace(f.ns).Delete(context.Background(), "mlmodel-gateway", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rollback := f.cfg("Rollback", "")
	rollback.DetectGateway = true
	res, err := f.run(rollback)
	want = "the ingress gateway was not detected, so the Gateway selects istio=ingressgateway (Istio's default): several Istio ingress gateways were found"
	if got := f.gatewaySelector(); err != nil || got != "istio=ingressgateway" || len(res.Warnings) != 1 || !strings.HasPrefix(res.Warnings[0], want) {
		t.Errorf("Rollback with several gateways, none chosen and no Gateway: %v, the Gateway selects %s, warnings %q, want %q…", err, got, res.Warnings, want)
	}

	// The add-on alone (open-source Istio's gateway removed until the test ends): its external gateway.
	ctx := context.Background()
	if err := env.Dynamic.Resource(kube.Services).Namespace("istio-system").Delete(ctx, "istio-ingressgateway", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := env.IngressFixture(ctx, "istio"); err != nil {
			t.Error(err)
		}
	})
	f = newFixture(t)
	f.labelNamespace(`{"metadata":{"labels":{"istio-injection":null,"istio.io/rev":"asm-1-28"}}}`)
	res = holds(f, f.detecting(config.IngressAuto), "istio=aks-istio-ingressgateway-external")
	if len(res.Warnings) != 0 {
		t.Errorf("add-on, istio.io/rev=asm-1-28: warnings %q", res.Warnings)
	}
	f.rec.reset()
	if _, err := f.run(f.detecting(config.IngressAuto)); err != nil {
		t.Fatal(err)
	}
	noWrites(t, f, "the Blue_0 re-run on the add-on")
	f.labelNamespace(`{"metadata":{"labels":{"istio.io/rev":"asm-1-26"}}}`)
	newImage := f.detecting(config.IngressExternal) // a re-run that holds creates no pods and reads no namespace
	newImage.Image = imgB
	if res, err := f.run(newImage); err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "istio.io/rev=asm-1-26, but the installed revision is asm-1-28") {
		t.Errorf("add-on, an old revision label: %v, warnings %v", err, res)
	}

	// What detection costs in a stage that moves traffic on an existing Gateway (Blue_100 here,
	// which deploys nothing and so reads no namespace): nothing, against the same stage with the
	// selector given; asked for another --ingress, it looks again (one list) and changes it.
	shift := f.cfg("Blue_100", "")
	shift.GatewaySelector = "istio=aks-istio-ingressgateway-external"
	for range 2 { // the first moves traffic; the second is the re-run measured
		f.rec.reset()
		if _, err := f.run(shift); err != nil {
			t.Fatal(err)
		}
	}
	given, _ := f.rec.counts()
	shift.DetectGateway = true
	f.rec.reset()
	if _, err := f.run(shift); err != nil {
		t.Fatal(err)
	}
	if detected, writes := f.rec.counts(); detected != given || len(writes) != 0 || listedServices(f) {
		t.Errorf("Blue_100 re-run: %d requests detecting the gateway, %d with the selector given (want as many), writes %v", detected, given, writes)
	}
	shift.Ingress = config.IngressInternal
	f.rec.reset()
	if _, err := f.run(shift); err != nil || !listedServices(f) || f.gatewaySelector() != "istio=aks-istio-ingressgateway-internal" {
		t.Errorf("Blue_100 --ingress internal on an external Gateway: %v, listed Services: %v, the Gateway selects %s", err, listedServices(f), f.gatewaySelector())
	}

	// No known gateway at all.
	if err := env.Dynamic.Resource(kube.Services).Namespace("aks-istio-ingress").DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	f = newFixture(t)
	refusedWith(f, f.detecting(config.IngressAuto), "no Istio ingress gateway was found: no Service labelled istio=ingressgateway (open-source Istio), istio=ingress (Istio's gateway Helm chart) or istio=aks-istio-ingressgateway-external|internal (AKS's Istio add-on) in all namespaces; set --gateway-selector")
	// A selector given is used as it is, with nothing looked for.
	c := f.cfg("Blue_0", imgA)
	c.GatewaySelector = "istio=my-gateway"
	holds(f, c, "istio=my-gateway")
}

// listedServices reports whether the requests recorded since the last reset looked for the ingress
// gateways (a list of Services).
func listedServices(f *fixture) bool {
	return slices.ContainsFunc(f.rec.sentSince(), func(line string) bool { return strings.HasPrefix(requestOf(line), "LIST services") })
}

// TestIngressDetectionWithANamespacedRole: credentials bound only in the release's namespace (the
// documented Role) cannot look for the gateway nor read the namespace: the stage still runs, with
// the default selector and a note saying how to set it (as before detection existed: no warning),
// and a note that the sidecar injection was not checked. A Role in istio-system allowing list on services is enough to detect it there.
func TestIngressDetectionWithANamespacedRole(t *testing.T) {
	f := newFixture(t)
	cl := documentedRoleClient(t, f)
	c := f.detecting(config.IngressAuto)
	res, err := cl.Stage(context.Background(), c, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	want := "the ingress gateway was not detected, so the Gateway selects istio=ingressgateway (Istio's default): cannot look for the Istio ingress gateway: the credentials may list Services neither in all namespaces nor in istio-system, istio-ingress, aks-istio-ingress; grant list on services there, or set --gateway-selector"
	if len(res.Warnings) != 0 || !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
		t.Errorf("warnings %q, notes %q, want no warning and a note %q…", res.Warnings, res.Notes, want)
	}
	note := "the sidecar injection of namespace " + f.ns + " was not checked: the credentials cannot get the namespace (optional)"
	if !slicesContain(res.Notes, note) {
		t.Errorf("notes %q, want %q", res.Notes, note)
	}

	ctx := context.Background()
	rbac := func(res string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: res}
	}
	name := "mlcanary-gateways-" + f.ns
	role := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": map[string]any{"name": name, "namespace": "istio-system"},
		"rules": []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"services"}, "verbs": []any{"list"}}}}
	binding := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": map[string]any{"name": name, "namespace": "istio-system"},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
		"subjects": []any{map[string]any{"kind": "User", "name": "pipeline", "apiGroup": "rbac.authorization.k8s.io"}}}
	for r, obj := range map[string]map[string]any{"roles": role, "rolebindings": binding} {
		if _, err := env.Dynamic.Resource(rbac(r)).Namespace("istio-system").Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = env.Dynamic.Resource(rbac(r)).Namespace("istio-system").Delete(ctx, name, metav1.DeleteOptions{})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c := f.detecting(config.IngressAuto)
		res, err = cl.Stage(ctx, c, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		detected := !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, "the ingress gateway was not detected") })
		if detected || time.Now().After(deadline) {
			break
		}
	}
	if got := f.gatewaySelector(); len(res.Warnings) != 0 || got != "istio=ingressgateway" || slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, "the ingress gateway was not detected") }) {
		t.Errorf("with list on services in istio-system: warnings %q, notes %q, the Gateway selects %s", res.Warnings, res.Notes, got)
	}
}
