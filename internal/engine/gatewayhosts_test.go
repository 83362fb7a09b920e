package engine_test

// Regression tests for issue #8 (brownfield safety), found by the break-it review (branch break8):
// Gateway server hosts are read as Istio reads them.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
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
