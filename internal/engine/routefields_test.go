package engine_test

// Regression tests for issue #8 (brownfield safety), found by the break-it review (branch break8):
// fields others put on mlcanary's routes and destinations survive, foreign routes shadowing
// mlcanary's default route are refused.

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

func d0HTTPRoutes(d *d0) []any { return d.VirtualService["spec"].(map[string]any)["http"].([]any) }

// Fields someone put on mlcanary's adopted routes survive the whole documented sequence: fault
// injection and a rewrite on green's header route (Blue_Green unroutes it before green's pods are
// replaced and routes it again), corsPolicy and a mirror on the default route.
func TestAdoptedRouteFieldsSurviveTheSequence(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	rs := d0HTTPRoutes(d)
	fault := map[string]any{"delay": map[string]any{"fixedDelay": "1s", "percentage": map[string]any{"value": int64(1)}}}
	rewrite := map[string]any{"uri": "/v1/score"}
	cors := map[string]any{"allowOrigins": []any{map[string]any{"exact": "https://app.example.com"}}}
	mirror := map[string]any{"host": "shadow-svc"}
	rs[0].(map[string]any)["fault"], rs[0].(map[string]any)["rewrite"] = fault, rewrite
	rs[1].(map[string]any)["corsPolicy"], rs[1].(map[string]any)["mirror"] = cors, mirror
	d.apply(t, f)
	for _, st := range []struct{ stage, image string }{{"Rollback", ""}, {"Blue_0", imgB}, {"Blue_50", imgB}, {"Blue_100", ""}, {"Blue_Green", ""}, {"Green_100", ""}} {
		f.stage(st.stage, st.image)
		byName := map[string]map[string]any{}
		for _, r := range routesOf(t, f).([]any) {
			byName[r.(map[string]any)["name"].(string)] = r.(map[string]any)
		}
		g, def := byName["mlcanary-green"], byName["mlcanary-default"]
		if !reflect.DeepEqual(g["fault"], fault) || !reflect.DeepEqual(g["rewrite"], rewrite) || !reflect.DeepEqual(def["corsPolicy"], cors) || !reflect.DeepEqual(def["mirror"], mirror) {
			t.Fatalf("after %s: green header route %v, default route %v; want fault, rewrite, corsPolicy and mirror kept", st.stage, g, def)
		}
		f.rec.reset()
		f.stage(st.stage, st.image)
		noWrites(t, f, st.stage+" re-run")
	}
}

// A timeout someone put on blue's header route (mlcanary's own) survives the next release's
// Blue_0, which unroutes blue before replacing its pods and routes it again: the re-added route
// starts from the body it had when the stage began.
func TestHeaderRouteFieldsSurviveUnrouteAndReroute(t *testing.T) {
	f := newFixture(t)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Blue_50", imgB)
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for _, r := range routes {
		if r.(map[string]any)["name"] == "mlcanary-blue" {
			r.(map[string]any)["timeout"] = "30s"
		}
	}
	_ = unstructured.SetNestedSlice(vs.Object, routes, "spec", "http")
	if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(f.ns).Update(context.Background(), vs, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	f.stage("Blue_0", imgC)
	var blue map[string]any
	for _, r := range routesOf(t, f).([]any) {
		if r.(map[string]any)["name"] == "mlcanary-blue" {
			blue = r.(map[string]any)
		}
	}
	if blue == nil || blue["timeout"] != "30s" {
		t.Fatalf("after Blue_0 with a new image, blue's header route is %v; want it routed again with its timeout 30s", blue)
	}
	if host, _, _ := unstructured.NestedString(blue["route"].([]any)[0].(map[string]any), "destination", "host"); host != "model-svc-blue" {
		t.Fatalf("blue's header route sends to %s, want model-svc-blue", host)
	}
	f.rec.reset()
	f.stage("Blue_0", imgC)
	noWrites(t, f, "Blue_0 re-run")
}

// Fields someone set on one destination of the adopted default route (route[].headers), which
// names green's Service by its long spelling, survive changes of weights: mlcanary owns only the
// destinations' host, port and weight. Blue's destination, new in Blue_50, gets mlcanary's shape;
// Rollback from Blue_50 keeps green's headers; a re-run writes nothing.
func TestPerDestinationFieldsSurvive(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	def := d0HTTPRoutes(d)[1].(map[string]any)["route"].([]any)[0].(map[string]any)
	def["destination"] = map[string]any{"host": "model-svc-green." + f.ns + ".svc.cluster.local", "port": map[string]any{"number": int64(5001)}}
	def["headers"] = map[string]any{"request": map[string]any{"set": map[string]any{"x-env": "prod"}}}
	d.apply(t, f)
	headers := map[string]any{"request": map[string]any{"set": map[string]any{"x-env": "prod"}}}
	to := func(host string, w int64, h map[string]any) map[string]any {
		d := map[string]any{"destination": map[string]any{"host": host, "port": map[string]any{"number": int64(5001)}}, "weight": w}
		if h != nil {
			d["headers"] = h
		}
		return d
	}
	for _, st := range []struct {
		stage, image string
		want         []any
	}{
		{"Rollback", "", []any{to("model-svc-green", 100, headers)}},
		{"Blue_0", imgB, []any{to("model-svc-green", 100, headers)}},
		{"Blue_50", imgB, []any{to("model-svc-green", 50, headers), to("model-svc-blue", 50, nil)}},
		{"Rollback", "", []any{to("model-svc-green", 100, headers)}},
	} {
		f.stage(st.stage, st.image)
		var got any
		for _, r := range routesOf(t, f).([]any) {
			if r.(map[string]any)["name"] == "mlcanary-default" {
				got = r.(map[string]any)["route"]
			}
		}
		if !reflect.DeepEqual(got, st.want) {
			t.Fatalf("after %s the default route's destinations are\n%v\nwant\n%v", st.stage, got, st.want)
		}
		f.rec.reset()
		f.stage(st.stage, st.image)
		noWrites(t, f, st.stage+" re-run")
	}
}

// A foreign route placed before mlcanary's default route that matches every request it would get
// — no match or an empty match block, uri prefix "/" or "", or a prefix covering --uri-prefix
// (/score) with no other condition — makes the default route dead: every stage, Rollback too (the
// README: a stage refuses a route that would break mlcanary's routes), refuses before any write,
// naming the route by its live index and what it shadows. A route with any other condition, or a
// URI it does not cover, shadows nothing and the stage goes on (and a re-run writes nothing).
func TestForeignRouteShadowingTheDefaultRoute(t *testing.T) {
	all := `route http[0] "legacy-all" (%s → legacy-svc:80) is not mlcanary's (it has a name of its own) and matches every request, so mlcanary's default route after it would never be used; give it a match or remove it`
	score := `route http[0] "legacy-all" (%s → legacy-svc:80) is not mlcanary's (it has a name of its own) and matches every request to /score (--uri-prefix), so mlcanary's default route after it would never get them; narrow its match or remove it`
	uri := func(k, v string) map[string]any { return map[string]any{"uri": map[string]any{k: v}} }
	cases := []struct {
		name  string
		match []any
		want  string // "" when the route shadows nothing
	}{
		{"prefix /", []any{uri("prefix", "/")}, fmt.Sprintf(all, "uri prefix /")},
		{"empty match block", []any{map[string]any{}}, fmt.Sprintf(all, "empty match")},
		{"prefix / named, with a stat prefix", []any{map[string]any{"name": "all", "statPrefix": "x", "uri": map[string]any{"prefix": "/"}}}, fmt.Sprintf(all, "uri prefix /, name, statPrefix")},
		{"prefix /score", []any{uri("prefix", "/score")}, fmt.Sprintf(score, "uri prefix /score")},
		{"prefix /sc", []any{uri("prefix", "/sc")}, fmt.Sprintf(score, "uri prefix /sc")},
		{"prefix /SCORE ignoring case", []any{map[string]any{"ignoreUriCase": true, "uri": map[string]any{"prefix": "/SCORE"}}}, fmt.Sprintf(score, "uri prefix /SCORE, ignoreUriCase")},
		{"second match block /score", []any{uri("prefix", "/explain"), uri("prefix", "/score")}, fmt.Sprintf(score, "uri prefix /explain or uri prefix /score")},
		{"prefix /score/v2", []any{uri("prefix", "/score/v2")}, ""},
		{"exact /score", []any{uri("exact", "/score")}, ""},
		{"prefix /SCORE, case sensitive", []any{uri("prefix", "/SCORE")}, ""},
		{"prefix / and a header", []any{map[string]any{"uri": map[string]any{"prefix": "/"}, "headers": map[string]any{"x-legacy": map[string]any{"exact": "1"}}}}, ""},
		{"prefix /score on the mesh only", []any{map[string]any{"uri": map[string]any{"prefix": "/score"}, "gateways": []any{"mesh"}}}, ""},
	}
	for _, tc := range cases {
		for _, stage := range []string{"Blue_0", "Rollback"} {
			t.Run(tc.name+"/"+stage, func(t *testing.T) {
				f := newFixture(t)
				d := newD0()
				foreign := map[string]any{"name": "legacy-all", "match": tc.match,
					"route": []any{map[string]any{"destination": map[string]any{"host": "legacy-svc", "port": map[string]any{"number": int64(80)}}}}}
				d.VirtualService["spec"].(map[string]any)["http"] = append([]any{foreign}, d0HTTPRoutes(d)...)
				d.apply(t, f)
				before := istioState(t, f)
				writes, err := f.stageWith(stage, imageFor(stage), nil)
				if tc.want == "" {
					if err != nil {
						t.Fatalf("%s with route legacy-all %v first: %v", stage, tc.match, err)
					}
					f.rec.reset()
					f.stage(stage, imageFor(stage))
					noWrites(t, f, stage+" re-run")
					return
				}
				if want := stage + ": " + tc.want; err == nil || err.Error() != want {
					t.Fatalf("%s with route legacy-all %v first:\ngot  %v\nwant %s", stage, tc.match, err, want)
				}
				if len(writes) != 0 {
					t.Errorf("refused %s wrote %v", stage, writes)
				}
				if after := istioState(t, f); after != before {
					t.Errorf("cluster changed:\n%s\nwas\n%s", after, before)
				}
			})
		}
	}
}

func imageFor(stage string) string {
	if stage == "Blue_0" {
		return imgB
	}
	return ""
}
