package engine_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// The safety checker's own reading (oracle_test.go) is held to cases too: a checker that misread
// a host spelling or a weight would pass unsafe writes. These need no API server.

func vsOf(t *testing.T, owned string, routes ...string) *unstructured.Unstructured {
	t.Helper()
	var http []any
	for _, r := range routes {
		var m map[string]any
		if err := utiljson.Unmarshal([]byte(r), &m); err != nil { // int64 numbers, as live objects hold them
			t.Fatal(err)
		}
		http = append(http, m)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"http": http}}}
	if owned != "" {
		u.SetAnnotations(map[string]string{"mlcanary.io/owned-routes": owned})
	}
	return u
}

func TestOracleNamesService(t *testing.T) {
	for _, tc := range []struct {
		from, host string
		want       bool
	}{
		{"abtesting", "model-svc-blue", true},
		{"team", "model-svc-blue", false}, // a short name is the VirtualService's own namespace's Service
		{"team", "model-svc-blue.abtesting", true},
		{"team", "model-svc-blue.abtesting.svc", true},
		{"team", "Model-Svc-Blue.abtesting.svc.cluster.local.", true},
		{"team", "model-svc-blue.abtesting.svc.corp.example", true},
		{"abtesting", "model-svc-blue.abtesting.svc.", true},
		{"abtesting", "model-svc-blue.other", false},
		{"abtesting", "model-svc-blue2", false},
		{"abtesting", "model-svc-blue.abtesting.cluster.local", false},
	} {
		if got := namesService(tc.from, tc.host, "abtesting", "model-svc-blue"); got != tc.want {
			t.Errorf("namesService(from %s, %q) = %v, want %v", tc.from, tc.host, got, tc.want)
		}
	}
}

func TestOracleTraffic(t *testing.T) {
	c := config.Default()
	const blueHeader = `"match":[{"uri":{"prefix":"/score"},"headers":{"x-api-version":{"exact":"blue"}}}]`
	cases := []struct {
		name       string
		vs         *unstructured.Unstructured
		want       routing.Routing
		hasDefault bool
	}{
		{"nothing", nil, routing.NewRouting(false, false, 0, 0), false},
		{"a single destination takes all, weight or not", vsOf(t, "", `{"route":[{"destination":{"host":"model-svc-green"},"weight":0}]}`),
			routing.NewRouting(false, false, 100, 0), true},
		{"a split", vsOf(t, "", `{"route":[{"destination":{"host":"model-svc-green"},"weight":20},{"destination":{"host":"model-svc-blue.abtesting.svc.cluster.local"},"weight":80}]}`),
			routing.NewRouting(false, false, 20, 80), true},
		{"the first catch-all wins", vsOf(t, "",
			`{"name":"x","route":[{"destination":{"host":"echo"}}]}`,
			`{"route":[{"destination":{"host":"model-svc-green"}}]}`),
			routing.NewRouting(false, false, 0, 0), true},
		{"a header route sends to blue", vsOf(t, "", `{`+blueHeader+`,"route":[{"destination":{"host":"model-svc-blue"}}]}`),
			routing.NewRouting(false, true, 0, 0), false},
		{"a header route to another Service is not blue's", vsOf(t, "", `{`+blueHeader+`,"route":[{"destination":{"host":"echo"}}]}`),
			routing.NewRouting(false, false, 0, 0), false},
		{"a match that is not only the header is no header route", vsOf(t, "",
			`{"match":[{"uri":{"prefix":"/score"},"headers":{"x-api-version":{"exact":"blue"},"x-debug":{"exact":"1"}}}],"route":[{"destination":{"host":"model-svc-blue"}}]}`),
			routing.NewRouting(false, false, 0, 0), false},
	}
	for _, tc := range cases {
		if got := trafficOf(&c, tc.vs); !got.Equal(tc.want) {
			t.Errorf("%s: trafficOf %+v, want %+v", tc.name, got, tc.want)
		}
		if _, got := defaultRoute(tc.vs); got != tc.hasDefault {
			t.Errorf("%s: default route %v, want %v", tc.name, got, tc.hasDefault)
		}
	}
}

func TestOracleRoles(t *testing.T) {
	c := config.Default()
	const blueHeader = `"match":[{"uri":{"prefix":"/score"},"headers":{"x-api-version":{"exact":"blue"}}}]`
	cases := []struct {
		name, owned, route, want string
	}{
		{"recorded, any shape", "mlcanary-blue", `{"name":"mlcanary-blue","route":[{"destination":{"host":"echo"}}]}`, "mlcanary-blue"},
		{"named like mlcanary's, not recorded, other shape", "", `{"name":"mlcanary-blue","route":[{"destination":{"host":"echo"}}]}`, ""},
		{"unnamed documented header route", "", `{` + blueHeader + `,"route":[{"destination":{"host":"model-svc-blue"}}],"timeout":"5s"}`, "mlcanary-blue"},
		{"documented match, other version's Service", "", `{` + blueHeader + `,"route":[{"destination":{"host":"model-svc-green"}}]}`, ""},
		{"unnamed default route with a mirror elsewhere", "", `{"route":[{"destination":{"host":"model-svc-green"}}],"mirror":{"host":"shadow"}}`, "mlcanary-default"},
		{"unnamed route to another Service", "", `{"route":[{"destination":{"host":"echo"}}]}`, ""},
		{"a name of its own", "", `{"name":"legacy","route":[{"destination":{"host":"model-svc-green"}}]}`, ""},
		{"no destinations", "", `{"redirect":{"uri":"/v2"}}`, ""},
	}
	for _, tc := range cases {
		vs := vsOf(t, tc.owned, tc.route)
		if got := roleOf(&c, vs, httpRoutes(vs)[0]); got != tc.want {
			t.Errorf("%s: role %q, want %q", tc.name, got, tc.want)
		}
	}
}
