package engine_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// blueGreenFromD0 is issue #8's D0 setup taken through a release to Blue_Green: green and blue run
// imgB, all traffic on blue, header routes to both.
func blueGreenFromD0(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Blue_100", "")
	f.stage("Blue_Green", "")
	return f
}

// otherNamespace creates a second namespace for VirtualServices of another team.
func otherNamespace(t *testing.T, f *fixture, suffix string) string {
	t.Helper()
	ns := f.ns + "-" + suffix
	if err := env.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	f.others = append(f.others, ns)
	return ns
}

func route(name string, dests ...string) map[string]any {
	var ds []any
	for _, d := range dests {
		ds = append(ds, map[string]any{"destination": map[string]any{"host": d, "port": map[string]any{"number": int64(5001)}}})
	}
	r := map[string]any{"route": ds}
	if name != "" {
		r["name"] = name
	}
	return r
}

func virtualService(name string, spec map[string]any) map[string]any {
	return map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": map[string]any{"name": name}, "spec": spec}
}

// snapshot is what a stage that refuses must leave exactly as it was: both Deployments and Services
// (resourceVersions), mlcanary's VirtualService and the other team's.
func snapshot(t *testing.T, f *fixture, others map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range config.Versions {
		c := f.cfg("Blue_0", "")
		out["deployment/"+string(v)] = get(t, kube.Deployments, f.ns, c.Objects[v].Deployment).GetResourceVersion()
		out["service/"+string(v)] = get(t, kube.Services, f.ns, c.Objects[v].Service).GetResourceVersion()
	}
	out["vs/own"] = get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").GetResourceVersion()
	for ns, name := range others {
		out["vs/"+ns+"/"+name] = get(t, kube.VirtualServices, ns, name).GetResourceVersion()
	}
	return out
}

// TestOtherVirtualServicesKeepAVersion is issue #8's kind 4: a route in any VirtualService — this
// namespace's or another's, http, tcp or a mirror, by any spelling of the Service's host — keeps
// the version it sends traffic to. Green_100 and a Blue_0 that would replace blue's pods refuse,
// naming the VirtualService and route, and change nothing; Rollback returns traffic to green, keeps
// blue and says why; the other VirtualService is never touched.
func TestOtherVirtualServicesKeepAVersion(t *testing.T) {
	cases := []struct {
		name string
		// ns is "" for the release's namespace, else a suffix for another namespace.
		ns, vs string
		spec   func(ns string) map[string]any
		// ref is the Reference the refusal and the note name.
		ref string
	}{
		{"issue example: header route, short name, same namespace", "", "scorer-internal", func(string) map[string]any {
			return map[string]any{"hosts": []any{"model-svc-green"}, "http": []any{
				map[string]any{"name": "blue-by-header", "match": []any{map[string]any{"headers": map[string]any{"x-api-version": map[string]any{"exact": "blue"}}}},
					"route": route("", "model-svc-blue")["route"]},
				route("", "model-svc-green")}}
		}, "route blue-by-header of VirtualService NS/scorer-internal"},
		{"FQDN from another namespace", "team", "team-scorer", func(ns string) map[string]any {
			return map[string]any{"hosts": []any{"scorer.team.example.com"}, "http": []any{route("", "model-svc-blue."+ns+".svc.cluster.local")}}
		}, "route http[0] of VirtualService NS-team/team-scorer"},
		{"mirror, short name, same namespace", "", "shadow", func(string) map[string]any {
			r := route("shadow-traffic", "model-svc-green")
			r["mirror"] = map[string]any{"host": "model-svc-blue"}
			return map[string]any{"hosts": []any{"model-svc-green"}, "http": []any{r}}
		}, "route shadow-traffic of VirtualService NS/shadow (as a mirror)"},
		{"tcp route, name.ns, another namespace", "raw", "raw-scorer", func(ns string) map[string]any {
			return map[string]any{"hosts": []any{"raw.example.com"}, "tcp": []any{map[string]any{"match": []any{map[string]any{"port": int64(9000)}},
				"route": route("", "model-svc-blue."+ns)["route"]}}}
		}, "route tcp[0] of VirtualService NS-raw/raw-scorer"},
		{"name.ns.svc in upper case with a trailing dot, same namespace", "", "batch", func(ns string) map[string]any {
			return map[string]any{"hosts": []any{"batch.example.com"}, "http": []any{route("batch", strings.ToUpper("model-svc-blue."+ns+".svc."))}}
		}, "route batch of VirtualService NS/batch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := blueGreenFromD0(t)
			ns := f.ns
			if tc.ns != "" {
				ns = otherNamespace(t, f, tc.ns)
			}
			applyAs(t, "team", kube.VirtualServices, ns, virtualService(tc.vs, tc.spec(f.ns)))
			ref := strings.ReplaceAll(tc.ref, "NS", f.ns)
			other := get(t, kube.VirtualServices, ns, tc.vs)
			before := snapshot(t, f, map[string]string{ns: tc.vs})
			routingBefore, _ := f.live()

			for _, st := range []struct{ stage, image, doing string }{{"Green_100", "", "remove it"}, {"Blue_0", imgC, "replace its pods"}} {
				f.rec.reset()
				_, err := f.try(st.stage, st.image)
				want := fmt.Sprintf("%s: %s is not mlcanary's and sends traffic to blue (Service %s/model-svc-blue), so mlcanary cannot %s; remove that route or point it elsewhere first; that %s is managed by field manager team",
					st.stage, ref, f.ns, st.doing, strings.Fields(ref[strings.Index(ref, " of ")+4:])[0])
				if err == nil || err.Error() != want {
					t.Errorf("%s:\n got %v\nwant %s", st.stage, err, want)
				}
				if _, writes := f.rec.counts(); len(writes) != 0 {
					t.Errorf("%s refused but wrote %v", st.stage, writes)
				}
				if after := snapshot(t, f, map[string]string{ns: tc.vs}); !reflect.DeepEqual(after, before) {
					t.Errorf("%s refused but changed objects: before %v after %v", st.stage, before, after)
				}
			}
			if r, _ := f.live(); !r.Equal(routingBefore) {
				t.Errorf("routing changed by refused stages: %+v", r)
			}

			res := f.stage("Rollback", "")
			wantNote := "blue was kept: " + ref + ", which is not mlcanary's, still sends traffic to it"
			if res.Weights.Green != 100 || res.Weights.Blue != 0 || res.Images.Blue != imgB || !slicesContain(res.Notes, wantNote) {
				t.Errorf("Rollback: weights %+v images %+v notes %q; want green 100, blue kept (%s), note %q", res.Weights, res.Images, res.Notes, imgB, wantNote)
			}
			live, images := f.live()
			if want := routing.NewRouting(true, false, 100, 0); !live.Equal(want) || images[config.Blue] != imgB || images[config.Green] != imgB {
				t.Errorf("after Rollback: routing %+v images %v", live, images)
			}
			get(t, kube.Services, f.ns, "model-svc-blue") // kept with its Deployment
			if after := get(t, kube.VirtualServices, ns, tc.vs); after.GetResourceVersion() != other.GetResourceVersion() || !reflect.DeepEqual(after.Object["spec"], other.Object["spec"]) {
				t.Errorf("VirtualService %s/%s was changed: %v", ns, tc.vs, after.Object["spec"])
			}
		})
	}
}

func slicesContain(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestShortNameInAnotherNamespaceIsNotOurs: Istio reads a short host with the VirtualService's own
// namespace, so another team's route to "model-svc-blue" is their Service, and Green_100 removes
// ours; likewise a route to our Service qualified with yet another namespace.
func TestShortNameInAnotherNamespaceIsNotOurs(t *testing.T) {
	f := blueGreenFromD0(t)
	team := otherNamespace(t, f, "team")
	applyAs(t, "team", kube.VirtualServices, team, virtualService("their-scorer", map[string]any{
		"hosts": []any{"their.example.com"}, "http": []any{route("", "model-svc-blue")}}))
	applyAs(t, "team", kube.VirtualServices, f.ns, virtualService("elsewhere", map[string]any{
		"hosts": []any{"elsewhere.example.com"}, "http": []any{route("", "model-svc-blue."+team+".svc.cluster.local")}}))
	res := f.stage("Green_100", "")
	if res.Images.Blue != "" || len(res.Notes) != 0 {
		t.Errorf("Green_100: images %+v notes %q", res.Images, res.Notes)
	}
	if _, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Get(context.Background(), "model-blue", metav1.GetOptions{}); err == nil {
		t.Error("blue's Deployment is still there")
	}
}

// TestManyOtherVirtualServicesArePaged: a namespace with more VirtualServices than one list page
// holds is read whole (the reference is on the last page), and stages that neither remove nor
// replace a version do not list them at all.
func TestManyOtherVirtualServicesArePaged(t *testing.T) {
	f := blueGreenFromD0(t)
	bulk := metav1.ListOptions{LabelSelector: "bulk=unrelated"}
	t.Cleanup(func() { // the other tests' recorders list this API server's VirtualServices
		_ = env.Dynamic.Resource(kube.VirtualServices).Namespace(f.ns).DeleteCollection(context.Background(), metav1.DeleteOptions{}, bulk)
	})
	for i := range 520 { // kube.List reads pages of 500
		name := fmt.Sprintf("unrelated-%03d", i)
		obj := virtualService(name, map[string]any{"hosts": []any{name + ".example.com"}, "http": []any{route("", "somewhere-else")}})
		obj["metadata"].(map[string]any)["labels"] = map[string]any{"bulk": "unrelated"}
		if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(f.ns).Create(context.Background(), &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	applyAs(t, "team", kube.VirtualServices, f.ns, virtualService("zz-last", map[string]any{
		"hosts": []any{"last.example.com"}, "http": []any{route("late", "model-svc-blue")}}))
	f.rec.reset()
	if _, err := f.try("Green_100", ""); err == nil || !strings.Contains(err.Error(), "route late of VirtualService "+f.ns+"/zz-last is not mlcanary's") {
		t.Errorf("Green_100: %v", err)
	}
	lists := f.rec.listed()
	if len(lists) < 2 {
		t.Errorf("Green_100 listed %v, want at least two pages", lists)
	}
	f.rec.reset()
	f.stage("Blue_Green", "") // holds: replaces nothing, so it lists no VirtualService
	if lists := f.rec.listed(); len(lists) != 0 {
		t.Errorf("a re-run of Blue_Green listed %v", lists)
	}
}

// TestOtherVirtualServiceKeepsGreensPods: Blue_Green replaces green's pods, so a route in another
// namespace's VirtualService to green (a TLS route, by FQDN) refuses it before any write.
func TestOtherVirtualServiceKeepsGreensPods(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Blue_100", "")
	team := otherNamespace(t, f, "tls")
	applyAs(t, "team", kube.VirtualServices, team, virtualService("passthrough", map[string]any{
		"hosts": []any{"tls.example.com"}, "gateways": []any{"mesh"},
		"tls": []any{map[string]any{"match": []any{map[string]any{"port": int64(443), "sniHosts": []any{"tls.example.com"}}},
			"route": route("", "model-svc-green."+f.ns+".svc.cluster.local")["route"]}}}))
	before := snapshot(t, f, map[string]string{team: "passthrough"})
	f.rec.reset()
	_, err := f.try("Blue_Green", "")
	want := "Blue_Green: route tls[0] of VirtualService " + team + "/passthrough is not mlcanary's and sends traffic to green (Service " + f.ns + "/model-svc-green), so mlcanary cannot replace its pods"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Blue_Green:\n got %v\nwant %s…", err, want)
	}
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("refused but wrote %v", writes)
	}
	if after := snapshot(t, f, map[string]string{team: "passthrough"}); !reflect.DeepEqual(after, before) {
		t.Errorf("refused but changed objects: before %v after %v", before, after)
	}
}

// TestNamespaceRoleStillFindsRoutesInTheNamespace: credentials that may not list VirtualServices in
// all namespaces (the documented Role) fall back to the namespace without failing, and a route
// there still keeps blue.
func TestNamespaceRoleStillFindsRoutesInTheNamespace(t *testing.T) {
	f := blueGreenFromD0(t)
	applyAs(t, "team", kube.VirtualServices, f.ns, virtualService("scorer-internal", map[string]any{
		"hosts": []any{"model-svc-green"}, "http": []any{route("blue-canary", "model-svc-blue")}}))
	cl := documentedRoleClient(t, f)
	_, err := cl.Stage(context.Background(), f.cfg("Green_100", ""), t.Logf)
	if err == nil || !strings.Contains(err.Error(), "route blue-canary of VirtualService "+f.ns+"/scorer-internal is not mlcanary's and sends traffic to blue") {
		t.Errorf("Green_100 with the namespace Role: %v", err)
	}
	res, err := cl.Stage(context.Background(), f.cfg("Rollback", ""), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	for _, note := range []string{"blue was kept: route blue-canary of VirtualService " + f.ns + "/scorer-internal",
		"only VirtualServices in namespace " + f.ns + " were checked for routes to blue"} {
		if !strings.Contains(strings.Join(res.Notes, "\n"), note) {
			t.Errorf("Rollback notes %q lack %q", res.Notes, note)
		}
	}
}

// TestAnyRefusalOfTheClusterWideListFallsBack: a 403 on listing VirtualServices in all namespaces
// from another authorizer (a policy engine's wording, not RBAC's) is no failure either: the
// namespace's VirtualServices are read and a route there still keeps blue.
func TestAnyRefusalOfTheClusterWideListFallsBack(t *testing.T) {
	f := blueGreenFromD0(t)
	applyAs(t, "team", kube.VirtualServices, f.ns, virtualService("scorer-internal", map[string]any{
		"hosts": []any{"model-svc-green"}, "http": []any{route("blue-canary", "model-svc-blue")}}))
	f.rec.answer = func(req *http.Request) *http.Response {
		if req.Method != http.MethodGet || req.URL.Path != "/apis/networking.istio.io/v1/virtualservices" {
			return nil
		}
		body := `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"cluster-scoped reads are denied by the platform policy","reason":"Forbidden","code":403}`
		return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"Content-Type": []string{"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: req}
	}
	_, err := f.try("Green_100", "")
	if err == nil || !strings.Contains(err.Error(), "route blue-canary of VirtualService "+f.ns+"/scorer-internal is not mlcanary's and sends traffic to blue") {
		t.Errorf("Green_100 with the cluster-wide list refused: %v", err)
	}
}
