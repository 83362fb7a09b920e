package engine_test

// Regression tests for issue #8 (brownfield safety), found by the break-it review (branch break8):
// Gateway server hosts are read as Istio reads them.

import (
	"fmt"
	"strings"
	"testing"
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
