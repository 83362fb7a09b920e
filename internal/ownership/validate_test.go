package ownership

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
)

func object(t *testing.T, kind, spec string) *unstructured.Unstructured {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	doc := `{"apiVersion":"` + render.IstioAPIVersion + `","kind":"` + kind + `","metadata":{"name":"mlmodel-gateway","namespace":"demo"},"spec":` + string(data) + `}`
	if err := u.UnmarshalJSON([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	return u
}

const ownHeaderRoute = `
- name: mlcanary-blue
  match: [{uri: {prefix: /score}, headers: {x-api-version: {exact: blue}}}]
  route: [{destination: {host: model-svc-blue, port: {number: 5001}}, weight: 100}]
`
const ownDefault = `
- name: mlcanary-default
  route: [{destination: {host: model-svc-green}, weight: 50}, {destination: {host: model-svc-blue}, weight: 50}]
`

// TestCheckVirtualService: Istio's rules on every route, the portable ones only on mlcanary's own
// (tools/istiovalidate proves the Istio part equal to Istio's code over a generated corpus).
func TestCheckVirtualService(t *testing.T) {
	c := config.Default()
	head := "hosts: [\"*\"]\ngateways: [mlmodel-gateway]\nhttp:" + ownHeaderRoute
	cases := []struct{ name, spec, want string }{
		{"foreign 2/1 weights", head + `- name: explainer-split
  match: [{uri: {prefix: /explain}}]
  route: [{destination: {host: explainer-a}, weight: 2}, {destination: {host: explainer-b}, weight: 1}]` + ownDefault, ""},
		{"foreign upper-case header", head + `- match: [{headers: {X-Legacy-Client: {exact: "1"}}}]
  route: [{destination: {host: legacy}}]` + ownDefault, ""},
		{"foreign JWT claim on a gateway", head + `- match: [{headers: {"@request.auth.claims.tier": {exact: gold}}}]
  route: [{destination: {host: gold}}]` + ownDefault, ""},
		{"JWT claim on the mesh", "hosts: [model.demo.svc.cluster.local]\nhttp:" + ownHeaderRoute + `- match: [{headers: {"@request.auth.claims.tier": {exact: gold}}}]
  route: [{destination: {host: gold}}]`, "JWT claim based routing"},
		{"own weights not 100", head + `- name: mlcanary-default
  route: [{destination: {host: model-svc-green}, weight: 2}, {destination: {host: model-svc-blue}, weight: 1}]`, `"mlcanary-default" (no match → model-svc-green weight 2, model-svc-blue weight 1): destination weights sum to 3, not 100`},
		{"negative weight", head + `- name: x
  route: [{destination: {host: a}, weight: 110}, {destination: {host: b}, weight: -10}]` + ownDefault, "weight -10 < 0"},
		{"zero total", head + `- name: x
  route: [{destination: {host: a}, weight: 0}, {destination: {host: b}, weight: 0}]` + ownDefault, "total destination weight = 0"},
		{"no route body", head + "- name: x\n  match: [{uri: {prefix: /x}}]\n" + ownDefault, "HTTP route, redirect or direct_response is required"},
		{"empty header prefix", head + "- match: [{headers: {x: {prefix: \"\"}}}]\n  route: [{destination: {host: a}}]\n" + ownDefault, "prefix string match should not be empty"},
		{"bad regex", head + "- match: [{uri: {regex: \"(\"}}]\n  route: [{destination: {host: a}}]\n" + ownDefault, "missing closing )"},
		{"redirect and route", head + "- match: [{uri: {prefix: /old}}]\n  redirect: {uri: /new}\n  route: [{destination: {host: a}}]\n" + ownDefault, "both route and redirect"},
		{"a foreign catch-all is MergeVirtualService's business (Istio only warns)", head + "- name: all\n  route: [{destination: {host: a}}]\n" + ownDefault, ""},
		{"duplicate foreign names are Istio's business", head + "- name: r\n  match: [{uri: {prefix: /a}}]\n  route: [{destination: {host: a}}]\n- name: r\n  match: [{uri: {prefix: /b}}]\n  route: [{destination: {host: a}}]\n" + ownDefault, ""},
		{"wildcard covers a foreign host", "hosts: [\"*\", model.example.com]\ngateways: [mlmodel-gateway]\nhttp:" + ownHeaderRoute, `host "*" (--hosts) and host "model.example.com", which someone else set, overlap`},
		{"foreign hosts overlap", "hosts: [\"*\", \"*.example.com\", a.example.com]\ngateways: [mlmodel-gateway]\nhttp:" + ownHeaderRoute, `overlap`},
		{"mesh with *", "hosts: [\"*\"]\ngateways: [mesh]\nhttp:" + ownHeaderRoute, "wildcard host * is not allowed"},
		{"gateway name", "hosts: [\"*\"]\ngateways: [istio-system/public_gw]\nhttp:" + ownHeaderRoute, `invalid value for gateway name`},
		{"platform gateway", "hosts: [\"*\"]\ngateways: [istio-system/public-gateway, mlmodel-gateway]\nhttp:" + ownHeaderRoute, ""},
		{"no routes", "hosts: [\"*\"]\ngateways: [g]\nhttp: []", "http, tcp or tls must be provided"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckVirtualService(&c, object(t, "VirtualService", tc.spec))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCheckGateway: Istio's Gateway rules, and mlcanary's server renamed instead of colliding.
func TestCheckGateway(t *testing.T) {
	cases := []struct{ name, spec, want string }{
		{"documented", `servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]`, ""},
		{"duplicate port names", `servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}, {port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]`, "duplicate name http"},
		{"HTTPS without TLS", `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"]}]`, "must have TLS settings"},
		{"HTTPS with credential", `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: [a.example.com], tls: {mode: SIMPLE, credentialName: cert}}]`, ""},
		{"SIMPLE without a key", `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: SIMPLE, serverCertificate: /c}}]`, "requires a private key"},
		{"MUTUAL without CA", `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k}}]`, "client CA bundle"},
		{"httpsRedirect on HTTP", `servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"], tls: {httpsRedirect: true}}]`, ""},
		{"TLS on plain HTTP", `servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"], tls: {mode: SIMPLE, credentialName: c}}]`, "plain text HTTP"},
		{"short host", `servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [model]}]`, "short names"},
		{"partial wildcard", `servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["a*.example.com"]}]`, "invalid"},
		{"unknown protocol", `servers: [{port: {number: 80, name: http, protocol: QUIC}, hosts: ["*"]}]`, "invalid protocol"},
		{"no port name", `servers: [{port: {number: 80, protocol: HTTP}, hosts: ["*"]}]`, "port name must be set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckGateway(object(t, "Gateway", tc.spec))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	c := config.Default()
	c.GatewayPort = 8080
	desired, err := render.Unstructured(render.Gateway(&c))
	if err != nil {
		t.Fatal(err)
	}
	live := object(t, "Gateway", `servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]`)
	if err := MergeCheckedGateway(desired, live); err != nil {
		t.Fatalf("a foreign server named http on 80 with --gateway-port 8080: %v", err)
	}
	servers, _, _ := unstructured.NestedSlice(desired.Object, "spec", "servers")
	if name, _, _ := unstructured.NestedString(servers[0].(map[string]any), "port", "name"); name != "http-8080" || len(servers) != 2 {
		t.Errorf("mlcanary's server is named %q among %d servers, want http-8080 among 2", name, len(servers))
	}
}

// TestGeneratedVirtualServicesPass: every stage's own VirtualService passes.
func TestGeneratedVirtualServicesPass(t *testing.T) {
	c := config.Default()
	for _, r := range []routing.Routing{
		routing.NewRouting(false, true, 0, 0), routing.NewRouting(true, true, 50, 50), routing.NewRouting(true, false, 100, 0), routing.NewRouting(false, false, 1, 99),
	} {
		vs, err := render.Unstructured(render.VirtualService(&c, r))
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckVirtualService(&c, vs); err != nil {
			t.Errorf("generated %+v: %v", r, err)
		}
	}
}
