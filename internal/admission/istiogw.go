package admission

import (
	"errors"
	"fmt"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// Gateway applies the rules of Istio's admission webhook for Gateways (istio/istio
// pkg/config/validation ValidateGateway, validateServer, validateServerPort, validateServerBind,
// validateTLSOptions) to a whole Gateway named name, and returns the first one it breaks, naming the
// server. Warnings (unknown cipher suites, httpsRedirect on a non-HTTP server) are not errors.
//
// The rules: the name is a DNS label; at least one server; every server has hosts (`ns/host` or a
// host: no short names, no partial wildcards, an IP allowed), a port with a name, a number 1..65535
// (0 only with a unix:// bind) and a known protocol, and no targetPort; HTTPS and TLS servers have
// TLS settings and other servers none, except an HTTP server's PASSTHROUGH settings without
// certificates (`tls: {httpsRedirect: true}`); TLS settings name one certificate source and what
// their mode needs (SIMPLE and MUTUAL a certificate and key or a credentialName, MUTUAL a CA bundle,
// ISTIO_MUTUAL none); and no two servers share a port name.
func Gateway(name string, gw *networkingv1alpha3.Gateway) error {
	if !isIstioLabel(name) {
		return fmt.Errorf("invalid gateway name: %q", name)
	}
	if len(gw.Servers) == 0 {
		return errors.New("gateway must have at least one server")
	}
	for i, s := range gw.Servers {
		if s == nil {
			return fmt.Errorf("servers[%d]: cannot have nil server", i)
		}
		if err := istioServer(s); err != nil {
			return fmt.Errorf("%s: %w", serverWhere(i, s), err)
		}
	}
	names := map[string]bool{}
	for i, s := range gw.Servers {
		if s.Port == nil {
			continue
		}
		if names[s.Port.Name] {
			return fmt.Errorf("%s: port names in servers must be unique: duplicate name %s", serverWhere(i, s), s.Port.Name)
		}
		names[s.Port.Name] = true
	}
	return nil
}

func serverWhere(i int, s *networkingv1alpha3.Server) string {
	if p := s.GetPort(); p != nil {
		return fmt.Sprintf("server %q on port %d", p.Name, p.Number)
	}
	return fmt.Sprintf("servers[%d]", i)
}

// protocols are the protocols Istio's protocol.Parse knows (case-insensitive).
var protocols = map[string]bool{"tcp": true, "udp": true, "grpc": true, "grpc-web": true, "http": true,
	"http_proxy": true, "http2": true, "https": true, "tls": true, "mongo": true, "redis": true, "mysql": true}

func isHTTPProtocol(p string) bool {
	switch strings.ToLower(p) {
	case "http", "http2", "http_proxy", "grpc", "grpc-web":
		return true
	}
	return false
}

func isTLSProtocol(p string) bool {
	switch strings.ToLower(p) {
	case "https", "tls":
		return true
	}
	return false
}

func istioServer(s *networkingv1alpha3.Server) error {
	if len(s.Hosts) == 0 {
		return errors.New("server config must contain at least one host")
	}
	for _, h := range s.Hosts {
		if err := GatewayServerHost(h); err != nil {
			return fmt.Errorf("host %q: %w", h, err)
		}
	}
	p := s.Port
	if p == nil {
		return errors.New("port is required")
	}
	if !protocols[strings.ToLower(p.Protocol)] {
		return fmt.Errorf("invalid protocol %q, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP", p.Protocol)
	}
	unix := strings.HasPrefix(s.Bind, "unix://")
	if p.Number > 0 || !unix {
		if err := istioPort(int64(p.Number)); err != nil {
			return err
		}
	}
	if p.TargetPort > 0 { //nolint:staticcheck // the deprecated field Istio still rejects
		return errors.New("targetPort has no impact on Gateways")
	}
	if p.Name == "" {
		return errors.New("port name must be set")
	}
	if unix {
		addr := strings.TrimPrefix(s.Bind, "unix://")
		if addr == "" {
			return errors.New("unix address must not be empty")
		}
		if !strings.HasPrefix(addr, "@") && (!strings.HasPrefix(addr, "/") || strings.HasSuffix(addr, "/")) {
			return fmt.Errorf("%s is not an absolute path to a file", addr)
		}
		if p.Number != 0 {
			return errors.New("port number must be 0 for unix domain socket")
		}
	} else if s.Bind != "" && !isIP(s.Bind) {
		return fmt.Errorf("%v is not a valid IP", s.Bind)
	}
	if err := istioTLS(s.Tls); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	t := s.Tls
	switch {
	case isTLSProtocol(p.Protocol) && t == nil:
		return errors.New("server must have TLS settings for HTTPS/TLS protocols")
	case isTLSProtocol(p.Protocol) || t == nil:
	case isHTTPProtocol(p.Protocol):
		passthrough := t.Mode == networkingv1alpha3.ServerTLSSettings_PASSTHROUGH || t.Mode == networkingv1alpha3.ServerTLSSettings_AUTO_PASSTHROUGH
		if !passthrough || t.CaCertificates != "" || t.PrivateKey != "" || t.ServerCertificate != "" {
			return errors.New("server cannot have TLS settings for plain text HTTP ports")
		}
	default:
		return errors.New("server cannot have TLS settings for non HTTPS/TLS ports")
	}
	return nil
}

// istioTLS is validateTLSOptions without its warnings.
func istioTLS(t *networkingv1alpha3.ServerTLSSettings) error {
	if t == nil {
		return nil
	}
	if t.Mode == networkingv1alpha3.ServerTLSSettings_ISTIO_MUTUAL {
		switch {
		case t.ServerCertificate != "", t.PrivateKey != "", t.CaCertificates != "", len(t.TlsCertificates) > 0,
			t.CredentialName != "", len(t.CredentialNames) > 0:
			return errors.New("ISTIO_MUTUAL TLS cannot have an associated certificate, key, CA bundle or credential")
		}
		return nil
	}
	sources := 0
	for _, set := range []bool{t.ServerCertificate != "" && t.PrivateKey != "", t.CredentialName != "", len(t.CredentialNames) > 0, len(t.TlsCertificates) > 0} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		return errors.New("only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified")
	}
	simple := t.Mode == networkingv1alpha3.ServerTLSSettings_SIMPLE
	mutual := t.Mode == networkingv1alpha3.ServerTLSSettings_MUTUAL || t.Mode == networkingv1alpha3.ServerTLSSettings_OPTIONAL_MUTUAL
	if (simple || mutual) && (t.CredentialName != "" || len(t.CredentialNames) > 0) {
		return nil // credentials are fetched remotely
	}
	if simple || mutual {
		prefix := "SIMPLE TLS"
		if mutual {
			prefix = "MUTUAL TLS"
			if t.CaCertificates == "" {
				return fmt.Errorf("%s requires a client CA bundle", prefix)
			}
		}
		certs := t.TlsCertificates
		if len(certs) == 0 {
			certs = []*networkingv1alpha3.ServerTLSSettings_TLSCertificate{{ServerCertificate: t.ServerCertificate, PrivateKey: t.PrivateKey}}
		}
		for _, c := range certs {
			if c.ServerCertificate == "" {
				return fmt.Errorf("%s requires a server certificate", prefix)
			}
			if c.PrivateKey == "" {
				return fmt.Errorf("%s requires a private key", prefix)
			}
		}
	}
	if t.CaCrl != "" {
		if t.CredentialName != "" {
			return errors.New("CRL is not supported with credentialName. CRL has to be specified in the credential")
		}
		if simple {
			return errors.New("CRL is not supported with SIMPLE TLS")
		}
	}
	return nil
}
