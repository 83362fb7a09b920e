package ownership

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// TestVirtualHosts: the virtual hosts Istio gives a VirtualService of namespace ml on a server
// (Names.Intersection of the server's hosts with its own, the narrower of each pair, lowercased),
// with Name.SubsetOf's cases among them (Istio's names.go doc examples included).
func TestVirtualHosts(t *testing.T) {
	for _, tc := range []struct {
		hosts, server []string
		want          string
	}{
		{[]string{"*"}, []string{"*"}, "[*]"},
		{[]string{"audit.example.com", "*"}, []string{"*"}, "[audit.example.com *]"},
		{[]string{"*"}, []string{"model.example.com"}, "[model.example.com]"},
		{[]string{"*.example.com"}, []string{"*.a.example.com", "b.example.com", "c.org"}, "[*.a.example.com b.example.com]"},
		{[]string{"foo.com", "bar.com"}, []string{"*.com"}, "[foo.com bar.com]"},
		{[]string{"foo.com", "*.net"}, []string{"*.com", "bar.net"}, "[foo.com bar.net]"},
		{[]string{"foo.com"}, []string{"bar.com"}, "[]"},
		{[]string{"Model.Example.com"}, []string{"*"}, "[model.example.com]"},
		{[]string{"*"}, []string{"ml/*", "other/x.com", "*/y.com"}, "[* y.com]"},
		{[]string{"*.example.com"}, []string{"*example.com"}, "[*.example.com]"},
	} {
		if got := fmt.Sprint(virtualHosts(tc.hosts, tc.server, "ml", "gw")); got != tc.want {
			t.Errorf("hosts %v on server %v: %s, want %s", tc.hosts, tc.server, got, tc.want)
		}
	}
}

// TestGatewayServerHosts: the hosts of the server carrying mlcanary's routes: the live servers on
// --gateway-port, plus --hosts when mlcanary writes that server; nil for a Gateway of another
// namespace, which a stage does not read.
func TestGatewayServerHosts(t *testing.T) {
	c := config.Default()
	c.Namespace, c.Hosts = "ml", []string{"model.example.com"}
	server := func(port int64, hosts ...any) any {
		return map[string]any{"port": map[string]any{"number": port}, "hosts": hosts}
	}
	gw := func(owned string, servers ...any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"servers": servers}}}
		if owned != "" {
			u.SetAnnotations(map[string]string{routing.OwnedPortsAnnotation: owned})
		}
		return u
	}
	for _, tc := range []struct {
		name string
		gw   *unstructured.Unstructured
		want string
	}{
		{"absent: mlcanary creates it", nil, "[model.example.com]"},
		{"someone else's server on the port", gw("", server(80, "*.example.com"), server(443, "x.com")), "[*.example.com]"},
		{"two servers on the port", gw("", server(80, "a.com"), server(80, "ml/b.com")), "[a.com ml/b.com]"},
		{"mlcanary's server, a host added by someone", gw("80", server(80, "model.example.com", "extra.com")), "[model.example.com extra.com]"},
		{"no server on the port yet", gw("", server(443, "x.com")), "[model.example.com]"},
	} {
		if got := fmt.Sprint(GatewayServerHosts(&c, tc.gw)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	c.Gateway = "istio-system/public"
	if got := GatewayServerHosts(&c, nil); got != nil {
		t.Errorf("a Gateway of another namespace: %v, want nil", got)
	}
}
