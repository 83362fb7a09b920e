package admission

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mlcanary/mlcanary/internal/lazyregexp"
)

// Istio's name rules, ported from istio/istio pkg/config/labels (IsDNS1123Label,
// IsWildcardDNS1123Label), pkg/config/host (Name.Matches), pkg/config/validation/agent
// (ValidateFQDN, ValidateWildcardDomain, ValidatePort, ValidateNamespaceSlashWildcardHostname) and
// pkg/config/validation (validHeaderNameRegex, ValidateHTTPHeaderNameOrJwtClaimRoute). Istio's DNS
// labels accept upper case, unlike Kubernetes'. tools/istiovalidate proves these equal Istio's code.

const dns1123LabelFmt = "[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?"

var (
	istioLabel         = lazyregexp.New("^" + dns1123LabelFmt + "$")
	istioWildcardLabel = lazyregexp.New(`^(\*|(\*|\*-)?` + dns1123LabelFmt + `)$`)
	// istioHeaderName is RFC 7230's token: what Istio accepts as a header match key.
	istioHeaderName = lazyregexp.New("^[!#$%&'*+\\-.^_`|~A-Za-z0-9]+$")
)

func isIstioLabel(s string) bool         { return len(s) <= 63 && istioLabel.MatchString(s) }
func isIstioWildcardLabel(s string) bool { return len(s) <= 63 && istioWildcardLabel.MatchString(s) }

func dnsPreconditions(name string) error {
	if len(name) > 255 {
		return fmt.Errorf("domain name %q too long (max 255)", name)
	}
	if name == "" {
		return errors.New("empty domain name not allowed")
	}
	return nil
}

func dnsLabels(domain string) error {
	parts := strings.Split(domain, ".")
	if _, err := strconv.Atoi(parts[len(parts)-1]); err == nil {
		return fmt.Errorf("domain name %q invalid (top level domain cannot be all-numeric)", domain)
	}
	for i, label := range parts {
		if i == len(parts)-1 && label == "" {
			return nil // a trailing dot: `istio.io.`
		}
		if !isIstioLabel(label) {
			return fmt.Errorf("domain name %q invalid (label %q invalid)", domain, label)
		}
	}
	return nil
}

// istioFQDN is agent.ValidateFQDN.
func istioFQDN(fqdn string) error {
	if err := dnsPreconditions(fqdn); err != nil {
		return err
	}
	return dnsLabels(fqdn)
}

// istioWildcardDomain is agent.ValidateWildcardDomain: an FQDN whose first label may be a wildcard.
func istioWildcardDomain(domain string) error {
	if err := dnsPreconditions(domain); err != nil {
		return err
	}
	first, rest, more := strings.Cut(domain, ".")
	if !isIstioWildcardLabel(first) {
		return fmt.Errorf("domain name %q invalid (label %q invalid)", domain, first)
	}
	if more {
		return dnsLabels(rest)
	}
	return nil
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// istioPort is agent.ValidatePort.
func istioPort(port int64) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("port number %d must be in the range 1..65535", port)
	}
	return nil
}

// jwtClaimHeader reports whether a header key is Istio's JWT claim routing form,
// `@request.auth.claims.NAME` or `@request.auth.claims[NAME]` (pkg/jwt ToRoutingClaim).
func jwtClaimHeader(name string) bool {
	const prefix = "@request.auth.claims"
	if !strings.HasPrefix(strings.ToLower(name), prefix) {
		return false
	}
	rest := name[len(prefix):]
	return (strings.HasPrefix(rest, ".") && len(rest) > 1) ||
		(strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") && len(rest) > 2)
}

// istioHeaderMatchName is ValidateHTTPHeaderNameOrJwtClaimRoute: any RFC 7230 token (upper case
// included), a pseudo-header, or a JWT claim.
func istioHeaderMatchName(name string) error {
	switch {
	case name == "":
		return errors.New("header name cannot be empty")
	case jwtClaimHeader(name):
		return nil
	case name == ":method" || name == ":scheme" || name == ":authority" || name == ":path" || name == ":status":
		return nil
	case !istioHeaderName.MatchString(name):
		return fmt.Errorf("header name %s is not a valid header name", name)
	}
	return nil
}

// GatewayServerHost applies Istio's rule for one host of a Gateway server (validateServer's
// ValidateNamespaceSlashWildcardHostname): `ns/host` or a host that is "*", an IP, or a fully
// qualified name whose first label may be a wildcard ("*.example.com") — no short names ("model"),
// no partial wildcards ("a*.example.com"), no all-numeric top-level label ("model.123"), labels of
// at most 63 characters. The error is Istio's reason.
func GatewayServerHost(h string) error {
	ns, name, slash := strings.Cut(h, "/")
	if !slash {
		return gatewayHostnamePart(h)
	}
	if ns == "" || name == "" {
		return errors.New("config namespace and dnsName in host entry cannot be empty")
	}
	if ns != "*" && ns != "." && !isIstioLabel(ns) {
		return fmt.Errorf("invalid namespace value %q", ns)
	}
	return gatewayHostnamePart(name)
}

func gatewayHostnamePart(h string) error {
	if h != "*" && !strings.Contains(h, ".") {
		return fmt.Errorf("short names (non FQDN) are not allowed: %q", h)
	}
	if err := istioWildcardDomain(h); err != nil && !isIP(h) {
		return err
	}
	if strings.Contains(h, "*") && len(h) != 1 && !strings.HasPrefix(h, "*.") {
		return fmt.Errorf("partial wildcard %q not allowed", h)
	}
	return nil
}

// HostsOverlap reports whether hosts a and b (each "*", "*.suffix" or a name) match a common
// name, Istio's rule for a VirtualService's hosts (host.Name.Matches, in pilot/pkg/model's
// duplicate-hosts check): equal, or one is a wildcard whose suffix the other ends with ("*" ends
// every name). Istio rejects a VirtualService whose hosts overlap ("duplicate hosts").
func HostsOverlap(a, b string) bool {
	aw, bw := strings.HasPrefix(a, "*"), strings.HasPrefix(b, "*")
	switch {
	case aw && bw:
		return strings.HasSuffix(a[1:], b[1:]) || strings.HasSuffix(b[1:], a[1:])
	case aw:
		return strings.HasSuffix(b, a[1:])
	case bw:
		return strings.HasSuffix(a, b[1:])
	}
	return a == b
}

// VirtualServiceHost applies Istio's rule for one host of a VirtualService bound to a Gateway
// (validateVirtualService's ValidateWildcardDomainForVirtualServiceBoundToGateway, without the
// auto-SNI form mlcanary never writes): "*", an IP, or a name whose first label may be a wildcard,
// with labels of at most 63 characters and a top-level label that is not all digits. A short name
// is allowed here (it is a Gateway's server that refuses one). The error is Istio's reason.
func VirtualServiceHost(h string) error {
	if err := istioWildcardDomain(h); err != nil && !isIP(h) {
		return err
	}
	return nil
}
