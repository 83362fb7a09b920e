package engine_test

// Issue #8 kind 1 setups the break-it review found before Istio's rules were ported (foreign
// routes Istio accepts, a second server named http, a host a wildcard covers), kept as regression
// cases; every write they cause is also held to Istio's own validation (istiowrites_test.go).

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// Kind 1: a foreign route Istio accepts must block no stage. New shapes (not the 2:1
// split, X-Legacy-Client or @request.auth.claims.tier).
func TestIstioReviewForeignRoutesIstioAcceptsBlockNothing(t *testing.T) {
	dest := func(h string, w int64) map[string]any {
		return map[string]any{"destination": map[string]any{"host": h, "port": map[string]any{"number": int64(80)}}, "weight": w}
	}
	cases := map[string]map[string]any{
		// Istio >= 1.15 normalises weights; a team's 60/30 split is accepted by istioctl validate.
		"weights summing to 90": {"name": "explainer-canary", "match": []any{map[string]any{"uri": map[string]any{"prefix": "/explain"}}},
			"route": []any{dest("explainer-a", 60), dest("explainer-b", 30)}},
		// An underscore is a valid HTTP header token character; Istio accepts it.
		"header with underscore": {"name": "tenant", "match": []any{map[string]any{"uri": map[string]any{"prefix": "/tenant"},
			"headers": map[string]any{"x_tenant_id": map[string]any{"exact": "a"}}}}, "route": []any{dest("tenant-svc", 100)}},
		// A pseudo-header match (Istio's ValidateHTTPHeaderNameOrJwtClaimRoute accepts :authority).
		"pseudo header": {"name": "tenant-host", "match": []any{map[string]any{"uri": map[string]any{"prefix": "/t"},
			"headers": map[string]any{":authority": map[string]any{"exact": "t.example.com"}}}}, "route": []any{dest("tenant-svc", 100)}},
		// JWT claim matching (Istio >= 1.18 syntax).
		"jwt claim header": {"name": "gold", "match": []any{map[string]any{"uri": map[string]any{"prefix": "/gold"},
			"headers": map[string]any{"@request.auth.claims.groups": map[string]any{"exact": "gold"}}}}, "route": []any{dest("gold-svc", 100)}},
	}
	for name, foreign := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			d := newD0()
			d.VirtualService["spec"].(map[string]any)["http"] = append([]any{foreign}, d0Routes(d)...)
			d.apply(t, f)
			for _, st := range []struct{ stage, image string }{{"Rollback", ""}, {"Blue_0", imgB}, {"Blue_50", imgB}} {
				if _, err := f.try(st.stage, st.image); err != nil {
					t.Fatalf("%s with a foreign route Istio accepts: %v", st.stage, err)
				}
			}
		})
	}
}

// Kinds 2/7: a Service that sends port 5001 to a *named* targetPort ("http", declared by the
// container as name http, containerPort 5001) is a normal Helm chart; it is compatible.
// Kind 2: the scoring container is not the first one (a log-shipper sidecar first). Blue_Green
// must give green's container `model` blue's image and leave the sidecar's image alone.
// Kinds 2/3 + re-runnable: an HPA (another field manager, through the scale subresource) scales
// the adopted green to 3. A stage that already holds must write nothing, and must not take the
// replicas back to --replicas (fighting the HPA makes the replicas flap every run).
// Kind 8: a VirtualService bound to the mesh and to the gateway (east-west callers through the
// sidecars plus the ingress) keeps both bindings.
// Kind 10: after each documented stage on D0 (whose catch-all carries a timeout), status derives
// that stage and reports no drift.
// Kinds 1/2: a Gateway server whose hosts use Istio's namespace/host form ("*/*", "./*",
// "NS/*") serves every host of the VirtualService's namespace; mlcanary must use it as it is.
// Kind 2: fields on adopted routes survive the whole documented sequence: fault injection and a
// rewrite on green's header route, corsPolicy and a mirror to a shadow service on the catch-all.
// credentialName, someone else's); `--gateway-port 8080` adds a listener. Istio requires port names
// to be unique across a Gateway's servers, so the merged Gateway must not carry two named "http".
func TestIstioReviewGatewayServerNamesStayUnique(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	servers := d.Gateway["spec"].(map[string]any)["servers"].([]any)
	servers = append(servers, map[string]any{"port": map[string]any{"number": int64(443), "name": "https", "protocol": "HTTPS"},
		"hosts": []any{"*"}, "tls": map[string]any{"mode": "SIMPLE", "credentialName": "model-tls"}})
	d.Gateway["spec"].(map[string]any)["servers"] = servers
	d.apply(t, f)
	c := f.cfg("Rollback", "")
	c.GatewayPort = 8080
	_, err := f.run(c)
	got, _, _ := unstructured.NestedSlice(get(t, kube.Gateways, f.ns, "mlmodel-gateway").Object, "spec", "servers")
	names := map[string]int{}
	for _, s := range got {
		n, _, _ := unstructured.NestedString(s.(map[string]any), "port", "name")
		names[n]++
	}
	for n, k := range names {
		if k > 1 {
			t.Fatalf("Rollback --gateway-port 8080 (err %v) left %d servers named %q on Gateway mlmodel-gateway (Istio: port names must be unique): %v", err, k, n, got)
		}
	}
}

// Kind 1: the VirtualService's hosts are [*.example.com] and the release routes model.example.com
// (--hosts). Istio rejects a VirtualService whose hosts overlap ("duplicate hosts"): mlcanary must
// not end up with both.
func TestIstioReviewHostsCoveredByAWildcardAreNotAdded(t *testing.T) {
	f := newFixture(t)
	d := newD0()
	d.VirtualService["spec"].(map[string]any)["hosts"] = []any{"*.example.com"}
	d.apply(t, f)
	c := f.cfg("Blue_0", imgB)
	c.Hosts = []string{"model.example.com"}
	_, err := f.run(c)
	hosts, _, _ := unstructured.NestedStringSlice(get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").Object, "spec", "hosts")
	if len(hosts) > 1 {
		t.Fatalf("Blue_0 --hosts model.example.com (err %v) left hosts %v: *.example.com covers model.example.com, which Istio rejects as duplicate hosts", err, hosts)
	}
}

// Kind 8: a VirtualService bound to the platform gateway in Istio's legacy spelling
// "public-gateway.<ns>" (istiod accepts it, with a warning) is bound to the gateway given as
// --gateway <ns>/public-gateway: the stage must not add a second spelling of the same Gateway.
