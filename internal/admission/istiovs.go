package admission

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// VirtualService applies the rules of Istio's admission webhook (istio/istio
// pkg/config/validation ValidateVirtualService and validateHTTPRoute, Istio ≥ 1.15: destination
// weights need not sum to 100) to a whole VirtualService, whoever wrote each part, and returns the
// first one it breaks, naming the entry. Warnings (an unreachable route, a legacy gateway name) are
// not errors: the webhook admits them.
//
// Checked: hosts (syntax; `*` only on a gateway; no two hosts of which one matches the other),
// gateways (`ns/name`, a name, or `mesh`), the delegate rules, and on every HTTP route the
// route/redirect/direct_response/delegate combinations, every match (header names, JWT claims only
// on gateways, string matches and regexes, ports, source namespaces), destinations (host, subset,
// port, weight ≥ 0, not all 0), mirrors (istioMirror: mlcanary writes one in Shadow_N), redirect,
// direct_response status and timeout. Not re-checked: fields mlcanary neither writes nor moves
// between objects (header operations, CORS, fault, retries, rewrite, TCP and TLS routes,
// exportTo); they passed the webhook when their owner wrote them.
func VirtualService(vs *networkingv1alpha3.VirtualService) error {
	delegate := len(vs.Hosts) == 0
	if delegate {
		switch {
		case len(vs.Gateways) != 0:
			return errors.New("delegate virtual service (no hosts) must have no gateways specified")
		case len(vs.Tls) != 0:
			return errors.New("delegate virtual service (no hosts) must have no tls route specified")
		case len(vs.Tcp) != 0:
			return errors.New("delegate virtual service (no hosts) must have no tcp route specified")
		}
	}
	onGateway := false
	if len(vs.Gateways) > 0 {
		if err := istioGatewayNames(vs.Gateways); err != nil {
			return fmt.Errorf("gateways: %w", err)
		}
		onGateway = !slices.Contains(vs.Gateways, "mesh")
	}
	if !onGateway {
		for i, r := range vs.Http {
			for _, m := range r.GetMatch() {
				for _, hs := range []map[string]*networkingv1alpha3.StringMatch{m.GetHeaders(), m.GetWithoutHeaders()} {
					for k := range hs {
						if jwtClaimHeader(k) {
							return fmt.Errorf("%s: JWT claim based routing (header %s) is only supported on gateways, not the mesh", routeWhere(i, r), k)
						}
					}
				}
			}
		}
	}
	if err := istioVirtualServiceHosts(vs, onGateway); err != nil {
		return err
	}
	if len(vs.Http) == 0 && len(vs.Tcp) == 0 && len(vs.Tls) == 0 {
		return errors.New("http, tcp or tls must be provided in virtual service")
	}
	for i, r := range vs.Http {
		if r == nil {
			return fmt.Errorf("http[%d]: http route may not be null", i)
		}
		if err := istioHTTPRoute(r, delegate); err != nil {
			return fmt.Errorf("%s: %w", routeWhere(i, r), err)
		}
	}
	return nil
}

func routeWhere(i int, r *networkingv1alpha3.HTTPRoute) string {
	if r.GetName() != "" {
		return fmt.Sprintf("route %q", r.GetName())
	}
	return fmt.Sprintf("http[%d]", i)
}

// istioGatewayNames is validateGatewayNames, including its quirk: the check stops at the first
// name without a namespace.
func istioGatewayNames(names []string) error {
	for _, g := range names {
		ns, name, slash := strings.Cut(g, "/")
		if !slash {
			if err := istioFQDN(g); err != nil {
				return fmt.Errorf("gateway %q: %w", g, err)
			}
			return nil
		}
		switch {
		case ns == "" || name == "":
			return fmt.Errorf("gateway %q: config namespace and gateway name cannot be empty", g)
		case !isIstioLabel(ns):
			return fmt.Errorf("gateway %q: invalid value for namespace: %q", g, ns)
		case !isIstioLabel(name):
			return fmt.Errorf("gateway %q: invalid value for gateway name: %q", g, name)
		}
	}
	return nil
}

func istioVirtualServiceHosts(vs *networkingv1alpha3.VirtualService, onGateway bool) error {
	sni := false
	for _, t := range vs.Tls {
		for _, m := range t.GetMatch() {
			sni = sni || len(m.GetSniHosts()) > 0
		}
	}
	for _, h := range vs.Hosts {
		var err error
		if onGateway && sni && strings.HasPrefix(h, "outbound_") {
			err = autoSNIHost(h)
		} else {
			err = istioWildcardDomain(h)
		}
		switch {
		case err != nil && !isIP(h):
			return fmt.Errorf("hosts: %w", err)
		case err == nil && !onGateway && h == "*":
			return errors.New("hosts: wildcard host * is not allowed for virtual services bound to the mesh gateway")
		}
	}
	for i, a := range vs.Hosts {
		for _, b := range vs.Hosts[i+1:] {
			if HostsOverlap(a, b) {
				return fmt.Errorf("hosts: %w", &DuplicateHostsError{A: a, B: b})
			}
		}
	}
	return nil
}

// DuplicateHostsError is Istio's "duplicate hosts" rule broken: two hosts of a VirtualService of
// which one matches the other (HostsOverlap), e.g. `*.example.com` and `api.example.com`.
// Callers that can say which host is whose (ownership.CheckVirtualService) find it with errors.As.
type DuplicateHostsError struct{ A, B string }

func (e *DuplicateHostsError) Error() string {
	return fmt.Sprintf("duplicate hosts in virtual service: %s & %s (one matches the other)", e.A, e.B)
}

// autoSNIHost is the outbound_.PORT_._.HOST form Istio accepts on gateways with SNI routes.
func autoSNIHost(h string) error {
	if err := dnsPreconditions(h); err != nil {
		return err
	}
	parts := strings.Split(h, "_")
	if len(parts) < 4 {
		return fmt.Errorf("domain name %s invalid, should follow 'outbound_.<PORT>_._.<HOSTNAME>' format", h)
	}
	port, host := strings.Trim(parts[1], "."), strings.Trim(parts[3], ".")
	if parts[0] != "outbound" || !regexp.MustCompile("([0-9].*)").MatchString(port) || !regexp.MustCompile("([a-zA-Z].*)").MatchString(host) {
		return fmt.Errorf("domain name %q invalid", h)
	}
	return nil
}

// istioHTTPRoute is validateHTTPRoute for the fields listed on VirtualService.
func istioHTTPRoute(r *networkingv1alpha3.HTTPRoute, delegate bool) error {
	if err := istioRouteConflict(r, delegate); err != nil {
		return err
	}
	if err := istioMatches(r.Match); err != nil {
		return err
	}
	if err := istioRedirect(r.Redirect, r.Match); err != nil {
		return err
	}
	if d := r.DirectResponse; d != nil {
		if b := d.GetBody(); len(b.GetString_()) > 1<<20 || len(b.GetBytes()) > 1<<20 {
			return errors.New("direct_response body must be less than 1MB")
		}
		if d.Status < 200 || d.Status > 600 {
			return fmt.Errorf("HTTP status %d is not in range 200-599", d.Status)
		}
	}
	if err := istioDestinations(r.Route); err != nil {
		return err
	}
	if err := istioMirror(r); err != nil {
		return err
	}
	if t := r.Timeout; t != nil {
		d := t.AsDuration()
		if d < 1e6 {
			return errors.New("timeout: duration must be greater than 1ms")
		}
		if d%1e6 != 0 {
			return errors.New("timeout: only durations to ms precision are supported")
		}
	}
	return nil
}

// istioRouteConflict is validateHTTPRouteConflict: a root route (with delegate) has nothing else;
// otherwise exactly one of route, redirect or direct_response.
func istioRouteConflict(r *networkingv1alpha3.HTTPRoute, delegate bool) error {
	switch {
	case !delegate && r.Delegate != nil:
		if r.Redirect != nil {
			return errors.New("root HTTP route must not specify redirect")
		}
		if r.Route != nil {
			return errors.New("root HTTP route must not specify route")
		}
		return nil
	case delegate && r.Delegate != nil:
		return errors.New("delegate HTTP route cannot contain delegate")
	case r.Redirect != nil && len(r.Route) > 0:
		return errors.New("HTTP route cannot contain both route and redirect")
	case r.Redirect != nil && r.Fault != nil:
		return errors.New("HTTP route cannot contain both fault and redirect")
	case r.Redirect != nil && r.Rewrite != nil:
		return errors.New("HTTP route rule cannot contain both rewrite and redirect")
	case r.Redirect != nil && r.DirectResponse != nil:
		return errors.New("HTTP route rule cannot contain both direct_response and redirect")
	case r.Redirect == nil && r.DirectResponse != nil && len(r.Route) > 0:
		return errors.New("HTTP route cannot contain both route and direct_response")
	case r.Redirect == nil && r.DirectResponse != nil && r.Fault != nil:
		return errors.New("HTTP route cannot contain both fault and direct_response")
	case r.Redirect == nil && r.DirectResponse != nil && r.Rewrite != nil:
		return errors.New("HTTP route rule cannot contain both rewrite and direct_response")
	case r.Redirect == nil && r.DirectResponse == nil && len(r.Route) == 0:
		return errors.New("HTTP route, redirect or direct_response is required")
	case r.Mirror != nil && len(r.Mirrors) > 0:
		return errors.New("HTTP route cannot contain both mirror and mirrors")
	}
	return nil
}

// istioMatches is validateHTTPRouteMatchRequest.
func istioMatches(ms []*networkingv1alpha3.HTTPMatchRequest) error {
	for _, m := range ms {
		if m == nil {
			continue
		}
		for k, v := range m.Headers {
			if v == nil {
				return fmt.Errorf("header match %v cannot be null", k)
			}
			if err := istioHeaderMatchName(k); err != nil {
				return err
			}
			if err := istioStringMatch(v, "headers", false); err != nil {
				return err
			}
		}
		for k, v := range m.WithoutHeaders {
			if err := istioHeaderMatchName(k); err != nil {
				return err
			}
			if v != nil && v.GetRegex() != "*" { // `*` means present, not a regex
				if err := istioStringMatch(v, "withoutHeaders", false); err != nil {
					return err
				}
			}
		}
		if err := istioStringMatch(m.Uri, "uri", true); err != nil {
			return err
		}
		for what, s := range map[string]*networkingv1alpha3.StringMatch{"scheme": m.Scheme, "method": m.Method, "authority": m.Authority} {
			if err := istioStringMatch(s, what, false); err != nil {
				return err
			}
		}
		for _, q := range m.QueryParams {
			if err := istioStringMatch(q, "queryParams", false); err != nil {
				return err
			}
		}
	}
	for _, m := range ms {
		if m == nil {
			continue
		}
		if m.Port != 0 {
			if err := istioPort(int64(m.Port)); err != nil {
				return err
			}
		}
		if err := istioGatewayNames(m.Gateways); err != nil {
			return err
		}
		if m.SourceNamespace != "" && !isIstioLabel(m.SourceNamespace) {
			return fmt.Errorf("sourceNamespace match %s is invalid", m.SourceNamespace)
		}
	}
	return nil
}

// istioStringMatch is validateStringMatch (an empty prefix is allowed only on the URI) and
// validateStringRegexp: a regex is non-empty, at most 1024 bytes and compiles as RE2.
func istioStringMatch(s *networkingv1alpha3.StringMatch, where string, emptyPrefixOK bool) error {
	switch t := s.GetMatchType().(type) {
	case *networkingv1alpha3.StringMatch_Prefix:
		if t.Prefix == "" && !emptyPrefixOK {
			return fmt.Errorf("%q: prefix string match should not be empty", where)
		}
	case *networkingv1alpha3.StringMatch_Regex:
		switch {
		case t.Regex == "":
			return fmt.Errorf("%q: regex string match should not be empty", where)
		case len(t.Regex) > 1024:
			return fmt.Errorf("%q: regex is too large, max length allowed is 1024", where)
		}
		if _, err := regexp.Compile(t.Regex); err != nil {
			return fmt.Errorf("%q: %w", where, err)
		}
	}
	return nil
}

func istioRedirect(r *networkingv1alpha3.HTTPRedirect, ms []*networkingv1alpha3.HTTPMatchRequest) error {
	if r == nil {
		return nil
	}
	if r.Uri != "" && r.PrefixRewrite != "" {
		return errors.New("redirect may only specify one of uri or prefix_rewrite")
	}
	if r.PrefixRewrite != "" {
		for _, m := range ms {
			if _, prefix := m.GetUri().GetMatchType().(*networkingv1alpha3.StringMatch_Prefix); m.GetUri() != nil && !prefix {
				return errors.New("redirect prefix_rewrite requires all URI matches to use prefix match type")
			}
		}
	}
	switch {
	case r.Uri == "" && r.PrefixRewrite == "" && r.Authority == "" && r.RedirectPort == nil && r.Scheme == "":
		return errors.New("redirect must specify URI, authority, scheme, or port")
	case r.RedirectCode != 0 && (r.RedirectCode < 300 || r.RedirectCode > 399):
		return fmt.Errorf("%d is not a valid redirect code, must be 3xx", r.RedirectCode)
	case r.Scheme != "" && r.Scheme != "http" && r.Scheme != "https":
		return errors.New(`invalid redirect scheme, must be "http" or "https"`)
	case r.GetPort() > 0:
		return istioPort(int64(r.GetPort()))
	}
	return nil
}

// istioDestinations is validateHTTPRouteDestinations without the header operations.
func istioDestinations(ds []*networkingv1alpha3.HTTPRouteDestination) error {
	var total int32
	for _, d := range ds {
		if d == nil {
			return errors.New("weight may not be nil")
		}
		if d.Destination == nil {
			return errors.New("destination is required")
		}
		h := d.Destination.Host
		if h == "*" {
			return fmt.Errorf("invalid destination host %s", h)
		}
		if err := istioWildcardDomain(h); err != nil {
			return fmt.Errorf("destination: %w", err)
		}
		if s := d.Destination.Subset; s != "" && !isIstioLabel(s) {
			return fmt.Errorf("destination %s: subset name is invalid: %s", h, s)
		}
		if p := d.Destination.Port; p != nil {
			if err := istioPort(int64(p.Number)); err != nil {
				return fmt.Errorf("destination %s: %w", h, err)
			}
		}
		if d.Weight < 0 {
			return fmt.Errorf("destination %s: weight %d < 0", h, d.Weight)
		}
		total += d.Weight
	}
	if len(ds) > 1 && total == 0 {
		return errors.New("total destination weight = 0")
	}
	return nil
}
