package engine_test

import (
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestDetectionNeverMovesAWorkingGateway (break-it review of #9, G16): the release's first stages ran with an explicit
// --gateway-selector (istio=private-gateway: the team's second, internal ingress gateway, installed
// with Istio's gateway chart under its own name), so the live Gateway selects it and clients reach
// the model through it. A later stage without the input — a pipeline whose variable was dropped, a
// separate Rollback job using defaults — detects the one known gateway (istio=ingressgateway) and
// rewrites the live Gateway's selector to it: every client of the private gateway gets 404 from
// then on, in the middle of the release (and on the failure path). A Gateway that works must not be
// rewritten to a guess (README); the stage should keep the live selector or refuse.
func TestDetectionNeverMovesAWorkingGateway(t *testing.T) {
	for _, stage := range []string{"Blue_50", "Rollback"} {
		t.Run(stage, func(t *testing.T) {
			f := newFixture(t)
			// The private gateway's Service (Istio's gateway chart, release "private-gateway").
			create(t, kube.Services, f.ns, map[string]any{"apiVersion": "v1", "kind": "Service",
				"metadata": map[string]any{"name": "private-gateway", "labels": map[string]any{"istio": "private-gateway", "app": "private-gateway"}},
				"spec": map[string]any{"type": "LoadBalancer", "selector": map[string]any{"istio": "private-gateway"},
					"ports": []any{map[string]any{"name": "http2", "port": int64(80), "targetPort": int64(80)}}}})
			explicit := func(c *config.Config) { c.GatewaySelector, c.DetectGateway = "istio=private-gateway", false }
			for _, st := range []struct{ stage, image string }{{"Blue_0", imgA}, {"Blue_100", ""}, {"Blue_Green", ""}, {"Green_100", ""}, {"Blue_0", imgB}} {
				if _, err := f.runDoc(st.stage, st.image, "", explicit); err != nil {
					t.Fatalf("%s: %v", st.stage, err)
				}
			}
			_, err := f.runDoc(stage, "", "", func(c *config.Config) { c.DetectGateway = true })
			if got := f.gatewaySelector(); got != "istio=private-gateway" {
				t.Errorf("%s without --gateway-selector (err %v) moved the live Gateway from istio=private-gateway to %s", stage, err, got)
			}
		})
	}
}
