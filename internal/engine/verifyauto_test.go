package engine_test

import (
	"context"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestVerifyAutoMeasuresTheGatewayTheReleaseUses (break-it review of #9, G7): on AKS with the add-on's external and
// internal gateways (and an open-source install next to them), the release runs with --ingress
// internal, so its Gateway selects the internal gateway. `mlcanary verify --gateway auto` — a
// separate pipeline step, or a Rollback's verification (Rollback keeps the live selector) — given
// no --ingress must measure the gateway the live Gateway selects (10.224.0.50), not re-guess one
// (refused as ambiguous here; with the add-on alone it would measure the external one, whose pods
// do not serve this Gateway at all).
func TestVerifyAutoMeasuresTheGatewayTheReleaseUses(t *testing.T) {
	shared.Env(t)
	fixtureOn(t, "aks-addon")
	f := newFixture(t)
	if _, err := f.run(f.detecting(config.IngressInternal)); err != nil {
		t.Fatal(err)
	}
	if got := f.gatewaySelector(); got != "istio=aks-istio-ingressgateway-internal" {
		t.Fatalf("the Gateway selects %s", got)
	}
	c := f.cfg("Blue_0", "")
	c.DetectGateway, c.Ingress = true, config.IngressAuto
	addr, err := f.cl.IngressAddress(context.Background(), c)
	if err != nil || addr != "http://10.224.0.50" {
		t.Errorf("verify --gateway auto (no --ingress) after a release through the internal gateway: %q, %v; want http://10.224.0.50, the gateway the live Gateway selects", addr, err)
	}
	// --ingress given chooses as the stage's detection does
	c.Ingress = config.IngressExternal
	if addr, err := f.cl.IngressAddress(context.Background(), c); err != nil || addr != "http://20.20.0.1" {
		t.Errorf("verify --gateway auto --ingress external: %q, %v; want http://20.20.0.1", addr, err)
	}
}
