package ownership

import (
	"encoding/json"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
)

func route(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

const (
	greenHeader = `"match":[{"uri":{"prefix":"/score"},"headers":{"x-api-version":{"exact":"green"}}}],"route":[{"destination":{"host":"model-svc-green"}}]`
	toGreen     = `"route":[{"destination":{"host":"model-svc-green"},"weight":100}]`
)

// TestAdoptableRole: the documented shape is adopted whatever other fields a route has; the
// reason a route is not adopted names what differs.
func TestAdoptableRole(t *testing.T) {
	c := config.Default()
	for _, tc := range []struct{ route, role, why string }{
		{`{` + greenHeader + `}`, "mlcanary-green", ""},
		{`{` + greenHeader + `,"headers":{"request":{"set":{"x-team":"ml"}}},"timeout":"5s"}`, "mlcanary-green", ""},
		{`{` + toGreen + `,"timeout":"30s","retries":{"attempts":3}}`, "mlcanary-default", ""},
		{`{"name":"mlcanary-default",` + toGreen + `}`, "mlcanary-default", ""},
		{`{"name":"mlcanary-blue",` + toGreen + `}`, "", "its name is mlcanary's mlcanary-blue but its shape is that of mlcanary-default"},
		{`{"name":"mlcanary-foo",` + toGreen + `}`, "", "it has a name of its own"},
		{`{"name":"green",` + greenHeader + `}`, "", "it has a name of its own"},
		{`{"route":[{"destination":{"host":"echo"}}]}`, "", "it sends traffic to echo, which is not model-svc-green or model-svc-blue"},
		{`{"match":[{"uri":{"prefix":"/score"},"headers":{"x-api-version":{"exact":"green"},"x-debug":{"exact":"1"}}}],` + toGreen + `}`, "", "its first match is not exactly uri prefix /score and header x-api-version: blue or green"},
		{`{"match":[{"uri":{"prefix":"/score"},"headers":{"x-api-version":{"exact":"blue"}}}],` + toGreen + `}`, "", "it matches blue but sends traffic to model-svc-green"},
		{`{"redirect":{"uri":"/v2"}}`, "", "it has no destinations"},
	} {
		role, why := AdoptableRole(&c, route(t, tc.route))
		if role != tc.role || why != tc.why {
			t.Errorf("%s: got %q %q, want %q %q", tc.route, role, why, tc.role, tc.why)
		}
	}
}

// TestOwnedRoutesAreRecorded: a recorded name is mlcanary's whatever its shape; an unrecorded
// route named like one of mlcanary's is its only when it has that role's shape.
func TestOwnedRoutesAreRecorded(t *testing.T) {
	c := config.Default()
	vs := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"http": []any{
		route(t, `{"name":"mlcanary-blue","match":[{"uri":{"prefix":"/v2"}}],"route":[{"destination":{"host":"model-svc-blue"}}]}`),
		route(t, `{"name":"mlcanary-foo",`+toGreen+`}`),
		route(t, `{`+toGreen+`,"timeout":"30s"}`),
	}}}}
	if got := fmt.Sprint(OwnedRoutes(&c, vs)); got != "map[2:mlcanary-default]" {
		t.Errorf("unrecorded: %s", got)
	}
	vs.SetAnnotations(map[string]string{routing.OwnedRoutesAnnotation: "mlcanary-blue,mlcanary-foo"})
	if got := fmt.Sprint(OwnedRoutes(&c, vs)); got != "map[0:mlcanary-blue 2:mlcanary-default]" {
		t.Errorf("recorded: %s", got)
	}
}

// TestMergeKeepsWhatMlcanaryDoesNotOwn: mlcanary's routes start from the live ones; only name,
// first match and destinations are its own.
func TestMergeKeepsWhatMlcanaryDoesNotOwn(t *testing.T) {
	c := config.Default()
	live := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"http": []any{
		route(t, `{"match":[{"uri":{"prefix":"/score"},"headers":{"x-api-version":{"exact":"green"}}},{"uri":{"prefix":"/predict"}}],"route":[{"destination":{"host":"model-svc-green"}}],"corsPolicy":{"allowOrigins":[{"exact":"https://a.example"}]}}`),
		route(t, `{"name":"debug","match":[{"headers":{"x-debug":{"exact":"1"}}}],"route":[{"destination":{"host":"echo"}}]}`),
		route(t, `{`+toGreen+`,"timeout":"30s"}`),
	}}}}
	desired, err := render.Unstructured(render.VirtualService(&c, routing.NewRouting(true, true, 50, 50)))
	if err != nil {
		t.Fatal(err)
	}
	if err := MergeVirtualService(&c, desired, live, nil); err != nil {
		t.Fatal(err)
	}
	routes, _, _ := unstructured.NestedSlice(desired.Object, "spec", "http")
	got, _ := json.Marshal(routes)
	want := `[{"match":[{"headers":{"x-api-version":{"exact":"blue"}},"uri":{"prefix":"/score"}}],"name":"mlcanary-blue","route":[{"destination":{"host":"model-svc-blue","port":{"number":5001}},"weight":100}]},` +
		`{"corsPolicy":{"allowOrigins":[{"exact":"https://a.example"}]},"match":[{"headers":{"x-api-version":{"exact":"green"}},"uri":{"prefix":"/score"}},{"uri":{"prefix":"/predict"}}],"name":"mlcanary-green","route":[{"destination":{"host":"model-svc-green","port":{"number":5001}},"weight":100}]},` +
		`{"match":[{"headers":{"x-debug":{"exact":"1"}}}],"name":"debug","route":[{"destination":{"host":"echo"}}]},` +
		`{"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green","port":{"number":5001}},"weight":50},{"destination":{"host":"model-svc-blue","port":{"number":5001}},"weight":50}],"timeout":"30s"}]`
	if string(got) != want {
		t.Errorf("merged routes:\n got %s\nwant %s", got, want)
	}
	if ann := desired.GetAnnotations()[routing.OwnedRoutesAnnotation]; ann != "mlcanary-blue,mlcanary-green,mlcanary-default" {
		t.Errorf("owned-routes annotation %q", ann)
	}
}

// TestDescribeRoute names a route by index, name, what it matches and where it sends.
func TestDescribeRoute(t *testing.T) {
	got := DescribeRoute(3, route(t, `{"name":"split","match":[{"uri":{"prefix":"/explain"},"headers":{"X-Legacy":{"regex":"a.*"}}},{"queryParams":{"a":{"exact":"1"}}}],`+
		`"route":[{"destination":{"host":"e1","port":{"number":80}},"weight":2},{"destination":{"host":"e2"},"weight":1}]}`))
	want := `route http[3] "split" (uri prefix /explain, header X-Legacy regex a.* or queryParams → e1:80 weight 2, e2 weight 1)`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
