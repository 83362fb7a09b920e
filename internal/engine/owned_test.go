package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestChangedFlagsRemoveWhatMlcanaryWrote: narrowing --hosts or moving --gateway-port removes
// the host and the server mlcanary wrote before, while a host someone added to mlcanary's server
// and a server someone added on another port stay.
func TestChangedFlagsRemoveWhatMlcanaryWrote(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // Blue_0
	gw := get(t, kube.Gateways, f.ns, "mlmodel-gateway")
	servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers")
	mine := servers[0].(map[string]any)
	mine["hosts"] = []any{"*", "api.example.com"}
	https := map[string]any{"port": map[string]any{"number": int64(443), "name": "https", "protocol": "HTTPS"}, "hosts": []any{"model.example.com"},
		"tls": map[string]any{"mode": "SIMPLE", "credentialName": "model-cert"}}
	applyAs(t, "platform", kube.Gateways, f.ns, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": "mlmodel-gateway"}, "spec": map[string]any{"servers": []any{mine, https}}})

	f.stage("Blue_50", imgB) // keeps the platform's host on port 80 and its 443 server
	gw = get(t, kube.Gateways, f.ns, "mlmodel-gateway")
	if got := serverSummary(gw); got != "80:*,api.example.com 443:model.example.com" {
		t.Errorf("after Blue_50: %s", got)
	}
	c := f.cfg("Blue_100", "")
	c.Hosts, c.GatewayPort = []string{"model.internal"}, 8080
	if _, err := f.run(c); err != nil {
		t.Fatal(err)
	}
	gw = get(t, kube.Gateways, f.ns, "mlmodel-gateway")
	if got := serverSummary(gw); got != "8080:model.internal 443:model.example.com" {
		t.Errorf("after moving to port 8080 and host model.internal: %s", got)
	}
	vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
	if hosts, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "hosts"); strings.Join(hosts, ",") != "model.internal" {
		t.Errorf("VirtualService hosts: %v", hosts)
	}
}

func serverSummary(gw *unstructured.Unstructured) string {
	servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers")
	var parts []string
	for _, s := range servers {
		m := s.(map[string]any)
		p, _, _ := unstructured.NestedInt64(m, "port", "number")
		hosts, _, _ := unstructured.NestedStringSlice(m, "hosts")
		parts = append(parts, fmt.Sprintf("%d:%s", p, strings.Join(hosts, ",")))
	}
	return strings.Join(parts, " ")
}
