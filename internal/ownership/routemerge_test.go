package ownership

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// route64 decodes a route as the API machinery does (whole numbers as int64, as a live object
// holds them; encoding/json would give float64, which the weight and port readers do not see).
func route64(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := utiljson.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMergeRoutes: how mergeRoutes builds the routes mlcanary writes from what it rendered (ours),
// the live VirtualService and the one the stage began from — each case one rule of its doc.
func TestMergeRoutes(t *testing.T) {
	c := config.Default()
	const (
		blueMatch = `"match":[{"headers":{"x-api-version":{"exact":"blue"}},"uri":{"prefix":"/score"}}]`
		toBlue    = `"route":[{"destination":{"host":"model-svc-blue","port":{"number":5001}},"weight":100}]`
		split     = `"route":[{"destination":{"host":"model-svc-green","port":{"number":5001}},"weight":50},{"destination":{"host":"model-svc-blue","port":{"number":5001}},"weight":50}]`
		oursBlue  = `{` + blueMatch + `,"name":"mlcanary-blue",` + toBlue + `}`
		oursDef   = `{"name":"mlcanary-default",` + split + `}`
	)
	vs := func(owned string, routes ...string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"http": []any{}}}}
		var http []any
		for _, r := range routes {
			http = append(http, route64(t, r))
		}
		u.Object["spec"].(map[string]any)["http"] = http
		if owned != "" {
			u.SetAnnotations(map[string]string{routing.OwnedRoutesAnnotation: owned})
		}
		return u
	}
	cases := []struct {
		name        string
		live, start *unstructured.Unstructured
		want        string // the merged routes as JSON, or
		err         string // a part of the refusal
	}{
		{name: "nothing live: ours as rendered",
			want: `[` + oursBlue + `,` + oursDef + `]`},
		{name: "mlcanary's routes start from the live ones of their role: timeout, retries and later match blocks stay; name, first match, destinations are set",
			live: vs("mlcanary-blue,mlcanary-default",
				`{"name":"mlcanary-blue","match":[{"uri":{"prefix":"/old"}},{"uri":{"prefix":"/predict"}}],"route":[{"destination":{"host":"model-svc-green"}}],"retries":{"attempts":3}}`,
				`{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green"},"weight":100}],"timeout":"30s"}`),
			want: `[{"match":[{"headers":{"x-api-version":{"exact":"blue"}},"uri":{"prefix":"/score"}},{"uri":{"prefix":"/predict"}}],"name":"mlcanary-blue","retries":{"attempts":3},` + toBlue + `},` +
				`{"name":"mlcanary-default",` + split + `,"timeout":"30s"}]`},
		{name: "adopted (unrecorded, documented shape) routes are the base too and get mlcanary's names",
			live: vs("", `{"route":[{"destination":{"host":"model-svc-green"}}],"timeout":"9s"}`),
			want: `[` + oursBlue + `,{"name":"mlcanary-default",` + split + `,"timeout":"9s"}]`},
		{name: "a route the stage unrouted starts again from its body when the stage began",
			live:  vs("mlcanary-default", `{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green"}}]}`),
			start: vs("mlcanary-blue,mlcanary-default", `{"name":"mlcanary-blue",`+blueMatch+`,"route":[{"destination":{"host":"model-svc-blue"}}],"timeout":"5s"}`),
			want:  `[{` + blueMatch + `,"name":"mlcanary-blue",` + toBlue + `,"timeout":"5s"},` + oursDef + `]`},
		{name: "a destination keeps what others set on it (headers, subset) by its Service under any spelling; port and weight are mlcanary's",
			live: vs("mlcanary-default", `{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green.abtesting.svc.cluster.local","subset":"v1","port":{"number":8080}},"weight":100,"headers":{"request":{"set":{"x-team":"ml"}}}}]}`),
			want: `[` + oursBlue + `,{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green","port":{"number":5001},"subset":"v1"},"headers":{"request":{"set":{"x-team":"ml"}}},"weight":50},{"destination":{"host":"model-svc-blue","port":{"number":5001}},"weight":50}]}]`},
		{name: "someone else's routes stay unchanged, after mlcanary's header routes and before its default route",
			live: vs("mlcanary-default",
				`{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green"}}]}`,
				`{"name":"debug","match":[{"headers":{"x-debug":{"exact":"1"}}}],"route":[{"destination":{"host":"echo"}}]}`),
			want: `[` + oursBlue + `,{"match":[{"headers":{"x-debug":{"exact":"1"}}}],"name":"debug","route":[{"destination":{"host":"echo"}}]},` + oursDef + `]`},
		{name: "a second route of one role is dropped: the first is mlcanary's",
			live: vs("",
				`{"route":[{"destination":{"host":"model-svc-green"}}],"timeout":"1s"}`,
				`{"route":[{"destination":{"host":"model-svc-blue"}}],"timeout":"2s"}`),
			want: `[` + oursBlue + `,{"name":"mlcanary-default",` + split + `,"timeout":"1s"}]`},
		{name: "a route of someone else named like one mlcanary writes is refused",
			live: vs("", `{"name":"mlcanary-blue","match":[{"uri":{"prefix":"/x"}}],"route":[{"destination":{"host":"echo"}}]}`),
			err:  `route http[0] "mlcanary-blue" (uri prefix /x → echo) is not mlcanary's (its first match is not exactly uri prefix /score and header x-api-version: blue or green) but has the name of a route mlcanary writes; rename it`},
		{name: "a route of someone else that catches every request would shadow the default route",
			live: vs("", `{"name":"catch-all","route":[{"destination":{"host":"echo"}}]}`),
			err:  `route http[0] "catch-all" (no match → echo) is not mlcanary's (it has a name of its own) and matches every request, so mlcanary's default route after it would never be used`},
		{name: "a recorded name is mlcanary's whatever its shape",
			live: vs("mlcanary-blue", `{"name":"mlcanary-blue","match":[{"uri":{"prefix":"/x"}}],"route":[{"destination":{"host":"echo"}}],"timeout":"3s"}`),
			want: `[{` + blueMatch + `,"name":"mlcanary-blue",` + toBlue + `,"timeout":"3s"},` + oursDef + `]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ours := []any{route64(t, oursBlue), route64(t, oursDef)}
			got, err := mergeRoutes(&c, ours, tc.live, tc.start)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(got)
			if string(js) != tc.want {
				t.Errorf("merged routes:\n got %s\nwant %s", js, tc.want)
			}
		})
	}
}

// TestRoutingOf: the traffic mlcanary's routes send, as Istio routes it.
func TestRoutingOf(t *testing.T) {
	c := config.Default()
	vs := func(owned string, routes ...string) *unstructured.Unstructured {
		var http []any
		for _, r := range routes {
			http = append(http, route64(t, r))
		}
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"http": http}}}
		if owned != "" {
			u.SetAnnotations(map[string]string{routing.OwnedRoutesAnnotation: owned})
		}
		return u
	}
	cases := []struct {
		name string
		vs   *unstructured.Unstructured
		want routing.Routing
	}{
		{"no VirtualService", nil, routing.NewRouting(false, false, 0, 0)},
		{"a single destination takes everything whatever its weight", vs("mlcanary-default",
			`{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-blue"},"weight":0}]}`), routing.NewRouting(false, false, 0, 100)},
		{"weights by Service, any spelling", vs("mlcanary-default",
			`{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green.abtesting.svc"},"weight":30},{"destination":{"host":"model-svc-blue.abtesting"},"weight":70}]}`), routing.NewRouting(false, false, 30, 70)},
		{"a Service of another namespace is no version", vs("mlcanary-default",
			`{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green.other"},"weight":30},{"destination":{"host":"model-svc-blue"},"weight":70}]}`), routing.NewRouting(false, false, 0, 70)},
		{"the first of two default routes is the one Istio uses", vs("",
			`{"route":[{"destination":{"host":"model-svc-green"}}]}`,
			`{"route":[{"destination":{"host":"model-svc-blue"}}]}`), routing.NewRouting(false, false, 100, 0)},
		{"header routes by role, adopted or recorded", vs("mlcanary-blue",
			`{"name":"mlcanary-blue","match":[{"uri":{"prefix":"/x"}}],"route":[{"destination":{"host":"model-svc-blue"}}]}`,
			`{"match":[{"headers":{"x-api-version":{"exact":"green"}},"uri":{"prefix":"/score"}}],"route":[{"destination":{"host":"model-svc-green"}}]}`), routing.NewRouting(true, true, 0, 0)},
		{"someone else's routes to a version are not mlcanary's routing", vs("",
			`{"name":"qa","match":[{"headers":{"x-api-version":{"exact":"blue"}},"uri":{"prefix":"/score"}}],"route":[{"destination":{"host":"model-svc-blue"}}]}`,
			`{"name":"legacy","route":[{"destination":{"host":"model-svc-green"}}]}`), routing.NewRouting(false, false, 0, 0)},
	}
	for _, tc := range cases {
		if got := RoutingOf(&c, tc.vs); !got.Equal(tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
