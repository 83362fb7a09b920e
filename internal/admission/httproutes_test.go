package admission

import (
	"strings"
	"testing"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// TestServesHTTPRoutes: the servers on which Istio applies a VirtualService's http routes (HTTP,
// HTTP2, GRPC and TLS-terminating HTTPS), and those it never does (PASSTHROUGH, AUTO_PASSTHROUGH,
// TCP, TLS, MONGO…), which name the server and its port.
func TestServesHTTPRoutes(t *testing.T) {
	tls := func(m networkingv1alpha3.ServerTLSSettings_TLSmode) *networkingv1alpha3.ServerTLSSettings {
		return &networkingv1alpha3.ServerTLSSettings{Mode: m, CredentialName: "cert"}
	}
	cases := []struct {
		protocol string
		tls      *networkingv1alpha3.ServerTLSSettings
		refused  string // "" when accepted
	}{
		{"HTTP", nil, ""},
		{"http", nil, ""},
		{"HTTP", &networkingv1alpha3.ServerTLSSettings{HttpsRedirect: true}, ""},
		{"HTTP2", nil, ""},
		{"GRPC", nil, ""},
		{"GRPC-WEB", nil, ""},
		{"HTTP_PROXY", nil, ""},
		{"HTTPS", tls(networkingv1alpha3.ServerTLSSettings_SIMPLE), ""},
		{"https", tls(networkingv1alpha3.ServerTLSSettings_MUTUAL), ""},
		{"HTTPS", tls(networkingv1alpha3.ServerTLSSettings_OPTIONAL_MUTUAL), ""},
		{"HTTPS", &networkingv1alpha3.ServerTLSSettings{Mode: networkingv1alpha3.ServerTLSSettings_ISTIO_MUTUAL}, ""},
		{"HTTPS", &networkingv1alpha3.ServerTLSSettings{Mode: networkingv1alpha3.ServerTLSSettings_PASSTHROUGH}, "HTTPS with tls.mode PASSTHROUGH"},
		{"HTTPS", &networkingv1alpha3.ServerTLSSettings{Mode: networkingv1alpha3.ServerTLSSettings_AUTO_PASSTHROUGH}, "HTTPS with tls.mode AUTO_PASSTHROUGH"},
		{"HTTPS", &networkingv1alpha3.ServerTLSSettings{CredentialName: "cert"}, "tls.mode PASSTHROUGH"}, // Istio's default mode
		{"TLS", &networkingv1alpha3.ServerTLSSettings{Mode: networkingv1alpha3.ServerTLSSettings_PASSTHROUGH}, "protocol TLS"},
		{"TLS", tls(networkingv1alpha3.ServerTLSSettings_SIMPLE), "protocol TLS"},
		{"TCP", nil, "protocol TCP"},
		{"MONGO", nil, "protocol MONGO"},
		{"REDIS", nil, "protocol REDIS"},
		{"MYSQL", nil, "protocol MYSQL"},
		{"UDP", nil, "protocol UDP"},
	}
	for _, c := range cases {
		s := &networkingv1alpha3.Server{Port: &networkingv1alpha3.Port{Number: 443, Name: "web", Protocol: c.protocol}, Hosts: []string{"*"}, Tls: c.tls}
		err := ServesHTTPRoutes(s)
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s %v: refused: %v", c.protocol, c.tls, err)
		case c.refused != "" && (err == nil || !strings.Contains(err.Error(), c.refused) || !strings.Contains(err.Error(), `server "web" on port 443`)):
			t.Errorf("%s %v: %v; want a refusal naming the server, its port and %q", c.protocol, c.tls, err, c.refused)
		}
	}
}
