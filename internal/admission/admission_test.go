package admission

import (
	"errors"
	"testing"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

func route(host string) []*networkingv1alpha3.HTTPRoute {
	return []*networkingv1alpha3.HTTPRoute{{Route: []*networkingv1alpha3.HTTPRouteDestination{{Destination: &networkingv1alpha3.Destination{Host: host}}}}}
}

// TestDuplicateHostsIsTyped: Istio's "duplicate hosts" rule is a *DuplicateHostsError callers find
// with errors.As (ownership.CheckVirtualService names whose host overlaps whose), with Istio's words.
func TestDuplicateHostsIsTyped(t *testing.T) {
	vs := &networkingv1alpha3.VirtualService{Hosts: []string{"*.example.com", "api.example.com"}, Gateways: []string{"mlmodel-gateway"}, Http: route("model-svc-green")}
	err := VirtualService(vs)
	var dup *DuplicateHostsError
	if !errors.As(err, &dup) || dup.A != "*.example.com" || dup.B != "api.example.com" {
		t.Fatalf("VirtualService = %v, want a *DuplicateHostsError", err)
	}
	if want := "hosts: duplicate hosts in virtual service: *.example.com & api.example.com (one matches the other)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	vs.Hosts = []string{"*.example.com", "api.example.org"}
	if err := VirtualService(vs); err != nil {
		t.Errorf("hosts that do not overlap: %v", err)
	}
	vs.Hosts = []string{"model.example.com"}
	vs.Http[0].Route[0].Weight = -1
	if err := VirtualService(vs); err == nil || errors.As(err, &dup) {
		t.Errorf("a negative weight: %v, want another rule", err)
	}
}

// TestGatewayRules: a few of Istio's Gateway rules, by the entry they name.
func TestGatewayRules(t *testing.T) {
	server := func(name string, number uint32) *networkingv1alpha3.Server {
		return &networkingv1alpha3.Server{Hosts: []string{"*"}, Port: &networkingv1alpha3.Port{Number: number, Name: name, Protocol: "HTTP"}}
	}
	cases := []struct {
		name    string
		servers []*networkingv1alpha3.Server
		wantErr bool
	}{
		{"one server", []*networkingv1alpha3.Server{server("http", 80)}, false},
		{"no server", nil, true},
		{"two servers named http", []*networkingv1alpha3.Server{server("http", 80), server("http", 8080)}, true},
		{"port out of range", []*networkingv1alpha3.Server{server("http", 70000)}, true},
	}
	for _, tc := range cases {
		err := Gateway("mlmodel-gateway", &networkingv1alpha3.Gateway{Servers: tc.servers})
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
}
