package admission

import (
	"fmt"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// ServesHTTPRoutes fails, naming the server and its port, when Istio never applies a
// VirtualService's http routes to requests arriving on Gateway server s — the only routes mlcanary
// writes — so every stage would "succeed" while no request reached them. Istio applies http routes
// to "gateway ports with protocol HTTP/HTTP2/GRPC/TLS-terminated-HTTPS"
// (https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService, field
// http); a server whose TLS mode is PASSTHROUGH or AUTO_PASSTHROUGH forwards the encrypted
// connection by SNI and is matched by tls routes only, and TCP, TLS, MONGO, REDIS, MYSQL and UDP
// servers by tcp or tls routes (https://istio.io/latest/docs/reference/config/networking/gateway/,
// Port.protocol and ServerTLSSettings.TLSmode). So the server must be:
//
//   - protocol HTTP, HTTP2, HTTP_PROXY, GRPC or GRPC-WEB (any case; `tls: {httpsRedirect: true}`
//     allowed), or
//   - protocol HTTPS with tls.mode SIMPLE, MUTUAL, OPTIONAL_MUTUAL or ISTIO_MUTUAL (the gateway
//     terminates TLS). An HTTPS server without tls.mode is PASSTHROUGH, Istio's default.
//
// s is assumed to pass Gateway's rules otherwise.
func ServesHTTPRoutes(s *networkingv1alpha3.Server) error {
	p := s.GetPort()
	if p == nil {
		return nil
	}
	proto := strings.ToUpper(p.Protocol)
	if isHTTPProtocol(proto) {
		return nil
	}
	where := fmt.Sprintf("server %q on port %d", p.Name, p.Number)
	if proto != "HTTPS" {
		return fmt.Errorf("%s has protocol %s, which Istio routes with tcp or tls routes, never with a VirtualService's http routes", where, p.Protocol)
	}
	switch mode := s.GetTls().GetMode(); mode {
	case networkingv1alpha3.ServerTLSSettings_SIMPLE, networkingv1alpha3.ServerTLSSettings_MUTUAL,
		networkingv1alpha3.ServerTLSSettings_OPTIONAL_MUTUAL, networkingv1alpha3.ServerTLSSettings_ISTIO_MUTUAL:
		return nil
	default:
		return fmt.Errorf("%s is HTTPS with tls.mode %s, which forwards the encrypted connection by SNI (tls routes) instead of terminating it, so Istio never applies a VirtualService's http routes there", where, mode)
	}
}
