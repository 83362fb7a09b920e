package config

import (
	"errors"
	"strings"
	"testing"
)

// TestGatewayInput: a bare name is mlcanary's own Gateway in the namespace; NAMESPACE/NAME binds to
// an existing one elsewhere; every other form is bad input naming the gateway input.
func TestGatewayInput(t *testing.T) {
	good := []struct {
		in, ns, name string
		external     bool
	}{
		{"mlmodel-gateway", "abtesting", "mlmodel-gateway", false},
		{"istio-system/public-gateway", "istio-system", "public-gateway", true},
		{"abtesting/shared", "abtesting", "shared", true},
		{"gw", "abtesting", "gw", false},
	}
	for _, tc := range good {
		c := Default()
		c.Gateway = tc.in
		if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", tc.in, err)
		}
		if ns, name, ext := c.GatewayRef(); ns != tc.ns || name != tc.name || ext != tc.external {
			t.Errorf("GatewayRef(%q) = %s, %s, %v", tc.in, ns, name, ext)
		}
	}
	for _, bad := range []string{"", " ", "/", "istio-system/", "/public-gateway", "a/b/c", "Istio-System/public-gateway",
		"istio-system/Public", "istio_system/gw", "gw.istio-system", "mesh", "istio-system/mesh", "gw ", "gw\n", "ns/gw/",
		strings.Repeat("a", 64), "ns/" + strings.Repeat("a", 64), "ünïcode/gw"} {
		c := Default()
		c.Gateway = bad
		var in *InputError
		if err := c.Validate(); !errors.As(err, &in) || in.Input != FlagGateway || !strings.Contains(in.Allowed, "NAMESPACE/NAME") {
			t.Errorf("%q: %v, want an InputError naming gateway", bad, err)
		}
	}
}
