package engine_test

// Regression tests for faults a break-it review found in issue #8's brownfield safety: an HPA's
// replicas on adopted green, an Ingress route to blue, Istio's legacy gateway spelling, and
// status after a failed Blue_0.

import (
	"context"
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
	"github.com/mlcanary/mlcanary/internal/testenv"
)

var ingressGVR = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}

func ingress(name string, spec map[string]any) map[string]any {
	return map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": map[string]any{"name": name}, "spec": spec}
}

func ingressBackend(svc string) map[string]any {
	return map[string]any{"service": map[string]any{"name": svc, "port": map[string]any{"number": int64(5001)}}}
}

// TestIngressRouteKeepsBlue: another team's Ingress (networking.k8s.io/v1) that sends traffic to
// model-svc-blue — a rule's path, with or without a host, or the defaultBackend — keeps blue as a
// VirtualService route does: Green_100 and a Blue_0 that would replace blue's pods refuse, naming
// the Ingress and the path, and write nothing; Rollback keeps blue and says why. An Ingress in
// another namespace naming a Service model-svc-blue names that namespace's Service: it keeps
// nothing, and Green_100 removes blue.
func TestIngressRouteKeepsBlue(t *testing.T) {
	pt := "Prefix"
	path := func(host, p, svc string) map[string]any {
		r := map[string]any{"http": map[string]any{"paths": []any{map[string]any{"path": p, "pathType": pt, "backend": ingressBackend(svc)}}}}
		if host != "" {
			r["host"] = host
		}
		return r
	}
	for _, tc := range []struct {
		name, ing string
		spec      map[string]any
		ref       string
	}{
		{"path, no host", "legacy", map[string]any{"rules": []any{path("", "/legacy", "model-svc-blue")}}, "route path /legacy of Ingress NS/legacy"},
		{"second rule, with a host", "by-host", map[string]any{"rules": []any{path("a.example.com", "/", "model-svc-green"), path("b.example.com", "/v2", "model-svc-blue")}},
			"route path b.example.com/v2 of Ingress NS/by-host"},
		{"defaultBackend", "fallback", map[string]any{"defaultBackend": ingressBackend("model-svc-blue")}, "route defaultBackend of Ingress NS/fallback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := blueGreenFromD0(t)
			applyAs(t, "team-legacy", ingressGVR, f.ns, ingress(tc.ing, tc.spec))
			ref := strings.ReplaceAll(tc.ref, "NS", f.ns)
			before := snapshot(t, f, nil)
			for _, st := range []struct{ stage, image, doing string }{{"Green_100", "", "remove it"}, {"Blue_0", imgC, "replace its pods"}} {
				f.rec.reset()
				_, err := f.try(st.stage, st.image)
				want := fmt.Sprintf("%s: %s is not mlcanary's and sends traffic to blue (Service %s/model-svc-blue), so mlcanary cannot %s; remove that route or point it elsewhere first; that %s is managed by field manager team-legacy",
					st.stage, ref, f.ns, st.doing, strings.Fields(ref[strings.Index(ref, " of ")+4:])[0])
				if err == nil || err.Error() != want {
					t.Errorf("%s:\n got %v\nwant %s", st.stage, err, want)
				}
				if _, writes := f.rec.counts(); len(writes) != 0 {
					t.Errorf("%s refused but wrote %v", st.stage, writes)
				}
				if after := snapshot(t, f, nil); !reflect.DeepEqual(after, before) {
					t.Errorf("%s refused but changed objects: before %v after %v", st.stage, before, after)
				}
			}
			res := f.stage("Rollback", "")
			wantNote := "blue was kept: " + ref + ", which is not mlcanary's, still sends traffic to it"
			if res.Weights.Green != 100 || res.Weights.Blue != 0 || res.Images.Blue != imgB || !slicesContain(res.Notes, wantNote) {
				t.Errorf("Rollback: weights %+v images %+v notes %q; want green 100, blue kept, note %q", res.Weights, res.Images, res.Notes, wantNote)
			}
			get(t, kube.Services, f.ns, "model-svc-blue")
			f.rec.reset()
			f.stage("Rollback", "")
			if _, writes := f.rec.counts(); len(writes) != 0 {
				t.Errorf("re-run of Rollback wrote %v", writes)
			}
		})
	}
	t.Run("Ingress in another namespace keeps nothing", func(t *testing.T) {
		f := blueGreenFromD0(t)
		other := otherNamespace(t, f, "team")
		applyAs(t, "team-legacy", ingressGVR, other, ingress("legacy", map[string]any{"rules": []any{path("", "/legacy", "model-svc-blue")}}))
		f.stage("Green_100", "")
		if _, err := env.Dynamic.Resource(kube.Services).Namespace(f.ns).Get(context.Background(), "model-svc-blue", metav1.GetOptions{}); err == nil {
			t.Errorf("Green_100 kept model-svc-blue for an Ingress of namespace %s, which names that namespace's Service", other)
		}
	})
}

// scaleTo sets ns/name's replicas through the scale subresource, as an autoscaler (or kubectl
// scale) does, and waits until the stand-in controller reports them ready.
func scaleTo(t *testing.T, ns, name, manager string, n int) {
	t.Helper()
	scale := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, n))
	if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(ns).Patch(context.Background(), name,
		"application/merge-patch+json", scale, metav1.PatchOptions{FieldManager: manager}, "scale"); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, name)
}

var hpaGVR = schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}

// hpaFor creates a HorizontalPodAutoscaler scaling Deployment name between 1 and 5 replicas.
func hpaFor(t *testing.T, ns, name string) {
	t.Helper()
	applyAs(t, "platform", hpaGVR, ns, map[string]any{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{"minReplicas": int64(1), "maxReplicas": int64(5),
			"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": name}}})
}

// TestBlueGreenKeepsAutoscaledReplicasOfGreen: mlcanary never changes the replicas of a Deployment
// it did not create nor of one a HorizontalPodAutoscaler scales, and Blue_Green never gives green,
// about to take every request, fewer replicas than blue serves them with. Each case checks the
// replicas after the stages and that a re-run writes nothing.
func TestBlueGreenKeepsAutoscaledReplicasOfGreen(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, f *fixture)
		// stages run after setup; the last is re-run.
		stages []string
		deploy string
		want   int64
	}{
		{"adopted green scaled by an autoscaler (no HPA object readable)", func(t *testing.T, f *fixture) {
			newD0().apply(t, f)
			scaleTo(t, f.ns, "model-green", "kube-controller-manager", 3)
		}, []string{"Blue_0@" + imgB, "Blue_100", "Blue_Green"}, "model-green", 3},
		{"green mlcanary created, scaled by its HPA", func(t *testing.T, f *fixture) {
			f.reach(states[3].path) // green only
			hpaFor(t, f.ns, "model-green")
			scaleTo(t, f.ns, "model-green", "horizontal-pod-autoscaler", 3)
		}, []string{"Blue_0@" + imgB, "Blue_100", "Blue_Green"}, "model-green", 3},
		{"blue mlcanary created, scaled down by its HPA, replaced by a new release", func(t *testing.T, f *fixture) {
			f.reach(states[5].path) // Blue_50
			hpaFor(t, f.ns, "model-blue")
			scaleTo(t, f.ns, "model-blue", "horizontal-pod-autoscaler", 4)
		}, []string{"Blue_0@" + imgC}, "model-blue", 4},
		{"blue scaled by hand to 3 at Blue_100: green takes at least blue's replicas", func(t *testing.T, f *fixture) {
			f.reach(states[6].path) // Blue_100
			scaleTo(t, f.ns, "model-blue", "kubectl-scale", 3)
		}, []string{"Blue_Green"}, "model-green", 3},
		{"green scaled by hand to 3 while it carries traffic: Rollback keeps them", func(t *testing.T, f *fixture) {
			f.reach(states[5].path) // Blue_50
			scaleTo(t, f.ns, "model-green", "kubectl-scale", 3)
		}, []string{"Rollback"}, "model-green", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.setup(t, f)
			var stage, image string
			run := func() {
				t.Helper()
				// The replicas are what this test is about: the capacity check (capacity_test.go)
				// would refuse the uneven counts it sets up.
				c := f.cfg(stage, image)
				c.CapacityCheck = config.CapacityWarn
				if _, err := f.run(c); err != nil {
					t.Fatalf("%s: %v", stage, err)
				}
			}
			for _, st := range tc.stages {
				stage, image, _ = strings.Cut(st, "@")
				run()
			}
			if r := field(t, kube.Deployments, f.ns, tc.deploy, "spec", "replicas"); r != tc.want {
				t.Fatalf("%s's replicas after %v = %v, want %d", tc.deploy, tc.stages, r, tc.want)
			}
			f.rec.reset()
			run()
			if _, writes := f.rec.counts(); len(writes) != 0 {
				t.Errorf("re-run of %s wrote %v", stage, writes)
			}
		})
	}
}

// A VirtualService bound to the platform gateway in Istio's legacy spelling "public-gateway.<ns>"
// (istiod accepts it, with a warning) is bound to the gateway given as --gateway
// <ns>/public-gateway: the stage must not add a second spelling of the same Gateway.
func TestLegacyGatewaySpellingIsTheSameGateway(t *testing.T) {
	f := newFixture(t)
	pns, _ := platformGateway(t, f)
	d := newD0()
	d.Gateway = nil
	spec := d.VirtualService["spec"].(map[string]any)
	spec["gateways"] = []any{"public-gateway." + pns}
	d.apply(t, f)
	c := f.cfg("Blue_0", imgB)
	c.Gateway = pns + "/public-gateway"
	if _, err := f.run(c); err != nil {
		t.Fatalf("Blue_0 --gateway %s: %v", c.Gateway, err)
	}
	gws, _, _ := unstructured.NestedStringSlice(get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").Object, "spec", "gateways")
	if len(gws) != 1 {
		t.Fatalf("gateways after Blue_0 --gateway %s/public-gateway: %v; want the one binding to that Gateway", pns, gws)
	}
}

// Blue_0 from Blue_50 fails because blue's new rollout fails (ProgressDeadlineExceeded). The
// stage did not complete: status reports the live stage (not the recorded Blue_50, whose blue
// routes are gone), no drift, and a note about the recorded stage.
func TestStatusAfterAFailedBlue0(t *testing.T) {
	f := newFixture(t)
	f.reach(states[5].path) // Blue_50
	ctrl.Fail(f.ns, "model-blue", testenv.ImagePullBackOff(imgC))
	defer ctrl.Release(f.ns, "model-blue")
	if _, err := f.try("Blue_0", imgC); err == nil {
		t.Fatal("Blue_0 with a failing rollout succeeded")
	}
	s := f.status()
	t.Logf("status: stage %q recorded %q drift %q weights %+v routes %+v notes %q", s.Stage, s.RecordedStage, s.Drift, s.Weights, s.Routes, s.Notes)
	if s.Drift != "" || s.Stage == "Blue_50" || len(s.Notes) == 0 {
		t.Fatalf("status after a failed Blue_0: stage %q drift %q notes %q; want the live stage, no drift, a note that Blue_0 failed", s.Stage, s.Drift, s.Notes)
	}
}

// TestOptionalReadsUnderTheDocumentedRole: the documented Role grants no list on Ingresses. A stage still runs; its notes say what was not
// checked, the Gateway API route kinds in one note (RBAC refuses them before the API server would
// say it does not serve them). Autoscalers matter only to a stage that may write a Deployment
// (Blue_Green, re-run here), routes to blue to the stage that removes it (Green_100).
func TestOptionalReadsUnderTheDocumentedRole(t *testing.T) {
	f := blueGreenFromD0(t)
	cl := documentedRoleClient(t, f)
	// The Role grants list on HorizontalPodAutoscalers now (README, "Autoscaling"): Blue_Green
	// notes nothing about them (TestUnreadableAutoscalersLeaveANote keeps the note without it).
	res, err := cl.Stage(context.Background(), f.cfg("Blue_Green", ""), t.Logf)
	if err != nil {
		t.Fatalf("Blue_Green with the documented Role: %v", err)
	}
	if slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, "HorizontalPodAutoscalers") }) {
		t.Errorf("Blue_Green notes %q: the documented Role may list HorizontalPodAutoscalers", res.Notes)
	}
	res, err = cl.Stage(context.Background(), f.cfg("Green_100", ""), t.Logf)
	if err != nil {
		t.Fatalf("Green_100 with the documented Role: %v", err)
	}
	notes := strings.Join(res.Notes, "\n")
	for _, want := range []string{
		"ingresses.networking.k8s.io in namespace " + f.ns + " were not checked for routes: the credentials cannot list them (optional)",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("Green_100 notes %q lack %q", res.Notes, want)
		}
	}
	// RBAC refuses before the API server says a kind is not served: one note for the Gateway API.
	if want := "Gateway API routes (httproutes, grpcroutes, tcproutes, tlsroutes of gateway.networking.k8s.io) in namespace " + f.ns + " were not checked"; strings.Count(notes, "gateway.networking.k8s.io") != 1 || !strings.Contains(notes, want) {
		t.Errorf("notes %q: want one note %q…", res.Notes, want)
	}
}
