package config

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"
)

// TestIngressEmpty: "" is one thing everywhere. In a Config built in code it is auto: Validate
// accepts it and AddOnIngress chooses no add-on gateway (an offline plan once wrote the selector
// istio=aks-istio-ingressgateway- from it); typed by the user (--ingress=) it is refused, naming
// the input, as before.
func TestIngressEmpty(t *testing.T) {
	for ingress, want := range map[string]string{"": "", IngressAuto: "", IngressExternal: IngressExternal, IngressInternal: IngressInternal, "public": ""} {
		c := Config{Ingress: ingress}
		if got := c.AddOnIngress(); got != want {
			t.Errorf("AddOnIngress() of %q = %q, want %q", ingress, got, want)
		}
	}
	c := Default()
	c.Ingress, c.DetectGateway = "", true
	if err := c.Validate(); err != nil {
		t.Errorf("Config built in code with Ingress \"\": %v, want valid (auto)", err)
	}
	var in Inputs
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	in.AddFlags(fs)
	if err := fs.Parse([]string{"--ingress="}); err != nil {
		t.Fatal(err)
	}
	var ie *InputError
	if _, err := in.Config("Blue_50"); !errors.As(err, &ie) || ie.Input != FlagIngress {
		t.Errorf("--ingress= typed: %v, want an InputError naming %s", err, FlagIngress)
	}
}
