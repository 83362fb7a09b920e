package engine_test

// Regression tests for issue #8 (brownfield safety), found by the break-it review (branch break8):
// Gateway server hosts are read as Istio reads them.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// A Gateway server's hosts are read as Istio reads them: "otherteam/*" serves only VirtualServices
// of namespace otherteam, "./*" those of the Gateway's namespace, "*/*" and "*" every namespace's.
// A first release binding to a server that does not admit its namespace would get no traffic
// through it, so Blue_0 refuses before any write, naming the server's hosts and the namespace;
// one that admits it is used as it is.
func TestGatewayServerOfAnotherNamespaceDoesNotServeUs(t *testing.T) {
	for hosts, refused := range map[string]bool{"otherteam/*": true, "otherteam/model.example.com": true,
		"./*": false, "*/*": false, "*": false, "NS/*": false} {
		t.Run(hosts, func(t *testing.T) {
			f := newFixture(t)
			d := newD0()
			h := strings.ReplaceAll(hosts, "NS", f.ns)
			d.Gateway["spec"].(map[string]any)["servers"].([]any)[0].(map[string]any)["hosts"] = []any{h}
			d.Deployment, d.Service, d.VirtualService = nil, nil, nil
			d.apply(t, f)
			writes, err := f.stageWith("Blue_0", imgA, nil)
			if !refused {
				if err != nil {
					t.Fatalf("Blue_0 with a server serving %s: %v", h, err)
				}
				f.rec.reset()
				f.stage("Blue_0", imgA)
				noWrites(t, f, "Blue_0 re-run")
				return
			}
			want := fmt.Sprintf("Gateway %s/mlmodel-gateway: the server on port 80 is not mlcanary's and serves hosts [%s], none of which is among [*] that mlcanary routes (--hosts) for namespace %s (Istio reads", f.ns, h, f.ns)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Blue_0 bound to a server serving %s: err %v, want …%s…", h, err, want)
			}
			if len(writes) != 0 {
				t.Fatalf("refused Blue_0 wrote %v", writes)
			}
		})
	}
}

// TestServerOnGatewayPortMustCarryHTTPRoutes: a server someone else defined on --gateway-port that
// Istio never applies http routes to — TLS PASSTHROUGH, AUTO_PASSTHROUGH, an HTTPS server
// without tls.mode (PASSTHROUGH, Istio's default), TCP, TLS, MONGO — is refused before any write,
// naming the server and its port: every stage would otherwise succeed while no request reaches
// mlcanary's routes (break-it review of issue #13, F9). A TLS-terminating HTTPS server is used.
func TestServerOnGatewayPortMustCarryHTTPRoutes(t *testing.T) {
	for _, c := range []struct {
		name, protocol string
		tls            map[string]any
		refused        string // "" when the server is used
	}{
		{"TLS passthrough", "TLS", map[string]any{"mode": "PASSTHROUGH"}, "protocol TLS"},
		{"HTTPS passthrough", "HTTPS", map[string]any{"mode": "PASSTHROUGH"}, "HTTPS with tls.mode PASSTHROUGH"},
		{"HTTPS auto passthrough", "HTTPS", map[string]any{"mode": "AUTO_PASSTHROUGH"}, "HTTPS with tls.mode AUTO_PASSTHROUGH"},
		{"HTTPS without a mode", "HTTPS", map[string]any{"credentialName": "model-cert"}, "HTTPS with tls.mode PASSTHROUGH"},
		{"TCP", "TCP", nil, "protocol TCP"},
		{"MONGO", "MONGO", nil, "protocol MONGO"},
		{"HTTPS terminated", "HTTPS", map[string]any{"mode": "SIMPLE", "credentialName": "model-cert"}, ""},
		{"HTTP2", "HTTP2", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			d := newD0()
			server := map[string]any{"port": map[string]any{"number": int64(443), "name": "web-443", "protocol": c.protocol}, "hosts": []any{"*"}}
			if c.tls != nil {
				server["tls"] = c.tls
			}
			d.Gateway["spec"].(map[string]any)["servers"] = append(d.Gateway["spec"].(map[string]any)["servers"].([]any), server)
			d.apply(t, f)
			port443 := func(c *config.Config) { c.GatewayPort = 443 }
			writes, err := f.stageWith("Blue_0", imgB, port443)
			if c.refused == "" {
				if err != nil {
					t.Fatalf("Blue_0 on a %s server: %v", c.name, err)
				}
				if writes, err = f.stageWith("Blue_0", imgB, port443); err != nil || len(writes) > 0 {
					t.Fatalf("Blue_0 re-run: %v, writes %v", err, writes)
				}
				return
			}
			want := fmt.Sprintf(`Gateway %s/mlmodel-gateway: the server "web-443" on port 443 `, f.ns)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), c.refused) {
				t.Fatalf("Blue_0 on a %s server: %v; want a refusal beginning %q naming %q", c.name, err, want, c.refused)
			}
			if len(writes) != 0 {
				t.Fatalf("refused Blue_0 wrote %v", writes)
			}
			if r, _ := f.live(); r.Weights["green"] != 100 {
				t.Errorf("traffic moved: %v", r)
			}
		})
	}
}

// TestOlderVirtualServiceOnTheGatewayHostShadowsOurs: for a gateway, Istio merges the
// VirtualServices that give the same virtual host (the same host on the server) into one, routes
// of the oldest first and catch-all routes last, so another team's VirtualService on the same
// Gateway and host (mlcanary's "*") with a route tried before mlcanary's default route and
// matching every request it would get — an older one's catch-all or prefix covering --uri-prefix,
// a newer one's covering prefix — leaves mlcanary's split without a request: refused before any
// write, naming it and its route, and again on a re-run. A route that takes only some of those
// requests is a note; so is a VirtualService for a narrower host (model.example.com under "*"),
// which Istio makes its own virtual host and Envoy prefers for that host only. One bound
// elsewhere, or a newer catch-all (sorted after mlcanary's), is not a concern (break-it review of
// issue #13, F4; bfbreak).
func TestOlderVirtualServiceOnTheGatewayHostShadowsOurs(t *testing.T) {
	route := func(match []any) map[string]any {
		r := map[string]any{"name": "echo", "route": []any{map[string]any{"destination": map[string]any{"host": "echo"}}}}
		if match != nil {
			r["match"] = match
		}
		return r
	}
	prefix := func(p string) []any { return []any{map[string]any{"uri": map[string]any{"prefix": p}}} }
	for _, c := range []struct {
		name     string
		gateways []any
		hosts    []any
		match    []any
		newer    bool
		want     string // "refused: …", "note: …" or "" for nothing
	}{
		{"catch-all", []any{"mlmodel-gateway"}, []any{"*"}, nil, false, "refused: which matches every request;"},
		{"catch-all on a narrower host", []any{"mlmodel-gateway"}, []any{"model.example.com"}, nil, false, "note: gets every request for model.example.com: Istio gives each host its own virtual host"},
		{"prefix /", []any{"NS/mlmodel-gateway"}, []any{"*"}, prefix("/"), false, "refused: which matches every request;"},
		{"prefix /sc", []any{"mlmodel-gateway"}, []any{"*"}, prefix("/sc"), false, "refused: which matches every request to /score (--uri-prefix)"},
		{"prefix /score/v2", []any{"mlmodel-gateway"}, []any{"*"}, prefix("/score/v2"), false, "note: requests to /score it matches never reach them"},
		{"a header", []any{"mlmodel-gateway"}, []any{"*"}, []any{map[string]any{"headers": map[string]any{"x-team": map[string]any{"exact": "a"}}}}, false, "note: requests to /score it matches never reach them"},
		{"another path", []any{"mlmodel-gateway"}, []any{"*"}, prefix("/api"), false, ""},
		{"another gateway", []any{"other-gateway"}, []any{"*"}, nil, false, ""},
		{"newer catch-all", []any{"mlmodel-gateway"}, []any{"*"}, nil, true, ""},
		{"newer prefix /sc", []any{"mlmodel-gateway"}, []any{"*"}, prefix("/sc"), true, "refused: so it is tried before mlcanary's default route, which would get no such request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			d := newD0()
			gws := make([]any, len(c.gateways))
			for i, g := range c.gateways {
				gws[i] = strings.ReplaceAll(g.(string), "NS", f.ns)
			}
			other := virtualService("otherteam-catchall", map[string]any{"hosts": c.hosts, "gateways": gws, "http": []any{route(c.match)}})
			if !c.newer {
				applyAs(t, "helm", kube.VirtualServices, f.ns, other)
				time.Sleep(1100 * time.Millisecond) // creationTimestamp has a resolution of one second
			}
			d.apply(t, f)
			if c.newer {
				time.Sleep(1100 * time.Millisecond)
				applyAs(t, "helm", kube.VirtualServices, f.ns, other)
			}
			before, _ := f.live()
			kind, text, _ := strings.Cut(c.want, ": ")
			if kind != "refused" {
				res := f.stage("Blue_0", imgB)
				noted := false
				for _, n := range res.Notes {
					noted = noted || strings.Contains(n, "otherteam-catchall") && strings.Contains(n, text)
				}
				if noted != (kind == "note") {
					t.Fatalf("notes %q; want a note about otherteam-catchall: %v", res.Notes, kind == "note")
				}
				f.rec.reset()
				f.stage("Blue_0", imgB)
				noWrites(t, f, "re-running Blue_0")
				return
			}
			for run := range 2 {
				writes, err := f.stageWith("Blue_0", imgB, nil)
				when := map[bool]string{false: "before", true: "after"}[c.newer]
				want := fmt.Sprintf("VirtualService %s/otherteam-catchall, created %s mlcanary's and bound to the same Gateway %s/mlmodel-gateway", f.ns, when, f.ns)
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), text) || !strings.Contains(err.Error(), `route http[0] "echo"`) {
					t.Fatalf("run %d: %v; want a refusal naming %q, the route and %q", run+1, err, want, text)
				}
				if len(writes) > 0 {
					t.Fatalf("run %d: refused Blue_0 wrote %v", run+1, writes)
				}
				if after, _ := f.live(); !after.Equal(before) {
					t.Fatalf("run %d: traffic moved from %v to %v", run+1, before, after)
				}
			}
		})
	}
}
