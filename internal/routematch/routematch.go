// Package routematch decides which http route of an Istio VirtualService a concrete request takes,
// as Istio's ingress gateway does: the routes in order, the first whose match it satisfies wins; a
// route matches when it has no match or when ANY of its match blocks matches in full (every
// condition of the block). It works on the VirtualService as the API server returns it (a JSON
// object), imports nothing from Istio, and says when a condition cannot be evaluated from the
// gateway's side rather than guess (Unknown). The rules follow Istio's HTTPMatchRequest reference
// (istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest) and Envoy's
// route matching, which Istio translates them to.
package routematch

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"sync"
)

// Request is one request as the ingress gateway receives it.
type Request struct {
	// Scheme is "http" or "https"; Method e.g. "POST"; Path the URL path without query.
	Scheme, Method, Path string
	// Query are the URL's query parameters (nil: none).
	Query url.Values
	// Authority is the Host header as sent: host, or host:port.
	Authority string
	// Port is the gateway port the request arrives on.
	Port int
	// Header are the request's headers (names in any case).
	Header http.Header
	// Gateway is the Istio Gateway the request arrives through, as namespace/name; "" unknown.
	Gateway string
	// Namespace is the VirtualService's namespace: a short gateway name in it means that namespace.
	Namespace string
}

// Result is how a match block (or route) relates to a request.
type Result int

// The results: the request takes it, does not, or it cannot be told from the gateway's side.
const (
	NoMatch Result = iota
	Match
	Unknown
)

// Decision is the route a request takes.
type Decision struct {
	// Index is the route's index in spec.http (-1: no route takes it, Istio answers 404).
	Index int
	// Route is that route's object (nil with Index -1).
	Route map[string]any
	// Unknown, when not "", says which condition of the route at Index could not be evaluated: the
	// request may or may not take that route (Route), so nothing after it is certain either.
	Unknown string
	// Unserved is set when the VirtualService's hosts do not include the request's host (Authority
	// without its port): the gateway does not route it by this VirtualService at all (Index -1).
	Unserved bool
}

// serves reports whether one of a VirtualService's hosts covers authority's host, as the gateway's
// virtual hosts do: "*" every host, "*.example.com" any name ending in ".example.com", else the
// same name (case-insensitive, a trailing dot ignored).
func serves(hosts []string, authority string) bool {
	host := authority
	if h, _, err := net.SplitHostPort(authority); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.ToLower(h), ".")
		switch {
		case h == "*", h == host:
			return true
		case strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:]) && len(host) > len(h)-1:
			return true
		}
	}
	return false
}

// First returns the first http route of the VirtualService vs (its whole object or its spec) that req
// takes. A route restricted to other gateways, or only to the mesh (`gateways: [mesh]`), is never
// taken by gateway traffic; the VirtualService's own gateways apply to routes without their own.
func First(vs map[string]any, req Request) Decision {
	spec := vs
	if s, ok := vs["spec"].(map[string]any); ok {
		spec = s
	}
	if hosts := strings1(spec["hosts"]); len(hosts) > 0 && !serves(hosts, req.Authority) {
		return Decision{Index: -1, Unserved: true}
	}
	vsGateways := strings1(spec["gateways"])
	routes, _ := spec["http"].([]any)
	for i, x := range routes {
		route, _ := x.(map[string]any)
		res, why := matchRoute(route, vsGateways, req)
		switch res {
		case Match:
			return Decision{Index: i, Route: route}
		case Unknown:
			return Decision{Index: i, Route: route, Unknown: why}
		}
	}
	return Decision{Index: -1}
}

// matchRoute: a route without match blocks matches every request; otherwise any block that matches
// decides, and an Unknown block leaves the route Unknown unless another block matches.
func matchRoute(route map[string]any, vsGateways []string, req Request) (Result, string) {
	blocks, _ := route["match"].([]any)
	if len(blocks) == 0 {
		return gateways(vsGateways, req)
	}
	res, why := NoMatch, ""
	for _, x := range blocks {
		m, _ := x.(map[string]any)
		r, w := matchBlock(m, vsGateways, req)
		if r == Match {
			return Match, ""
		}
		if r == Unknown && res == NoMatch {
			res, why = Unknown, w
		}
	}
	return res, why
}

// envoySet are request headers Envoy itself adds or changes before routing: a match on them cannot be
// told from the client's request.
var envoySet = map[string]bool{"x-request-id": true, "x-forwarded-for": true, "x-forwarded-proto": true,
	"x-forwarded-client-cert": true, "x-envoy-external-address": true, "x-b3-traceid": true, "traceparent": true}

// matchBlock evaluates every condition of one HTTPMatchRequest; the first that fails decides.
func matchBlock(m map[string]any, vsGateways []string, req Request) (Result, string) {
	res, why := Match, ""
	and := func(r Result, w string) bool {
		if r == NoMatch {
			res = NoMatch
			return false
		}
		if r == Unknown && res == Match {
			res, why = Unknown, w
		}
		return true
	}
	gws := vsGateways
	if g, ok := m["gateways"]; ok {
		gws = strings1(g)
	}
	if !and(gateways(gws, req)) {
		return NoMatch, ""
	}
	for key, v := range m {
		var r Result
		var w string
		switch key {
		case "name", "statPrefix", "ignoreUriCase", "gateways":
			continue
		case "uri":
			ic, _ := m["ignoreUriCase"].(bool)
			r, w = stringMatch(v, req.Path, ic, "uri")
		case "scheme":
			r, w = stringMatch(v, req.Scheme, false, "scheme")
		case "method":
			r, w = stringMatch(v, req.Method, false, "method")
		case "authority":
			r, w = stringMatch(v, req.Authority, false, "authority")
		case "port":
			p, ok := number(v)
			r = result(ok && p == float64(req.Port))
			if !ok {
				r, w = Unknown, fmt.Sprintf("port %v is not a number", v)
			}
		case "headers", "withoutHeaders":
			r, w = headerMatches(v, req.Header, key == "withoutHeaders")
		case "queryParams":
			r, w = queryMatches(v, req.Query)
		case "sourceLabels", "sourceNamespace":
			// Istio: "If the VirtualService has a list of gateways specified in the top-level gateways
			// field, it must include the reserved gateway mesh for this field to be applicable": the
			// gateway's traffic never satisfies it.
			r = NoMatch
		default:
			r, w = Unknown, fmt.Sprintf("its match condition %q is not one compare evaluates", key)
		}
		if !and(r, w) {
			return NoMatch, ""
		}
	}
	return res, why
}

func result(b bool) Result {
	if b {
		return Match
	}
	return NoMatch
}

// gateways: a request through req.Gateway satisfies a gateways list naming it (ns/name, or a short
// name in the VirtualService's namespace); "mesh" is the sidecars, never the gateway. An empty list
// is Istio's default for a route: the VirtualService's gateways, or the mesh only when it has none.
func gateways(list []string, req Request) (Result, string) {
	if len(list) == 0 {
		return NoMatch, ""
	}
	unknown := false
	for _, g := range list {
		if g == "mesh" {
			continue
		}
		if req.Gateway == "" {
			unknown = true
			continue
		}
		if !strings.Contains(g, "/") {
			g = req.Namespace + "/" + g
		}
		if g == req.Gateway {
			return Match, ""
		}
	}
	if unknown {
		return Unknown, fmt.Sprintf("it is limited to gateways %s and the gateway compare's requests arrive through is not known", strings.Join(list, ", "))
	}
	return NoMatch, ""
}

// headerMatches: every named header must match (withoutHeaders: must not match; an absent header
// never matches, so it satisfies withoutHeaders). An empty StringMatch ({}) matches presence.
func headerMatches(v any, h http.Header, without bool) (Result, string) {
	hm, _ := v.(map[string]any)
	res, why := Match, ""
	for name, sm := range hm {
		lower := strings.ToLower(name)
		if envoySet[lower] || strings.HasPrefix(lower, "x-envoy-") || strings.HasPrefix(lower, ":") && lower != ":authority" && lower != ":method" && lower != ":path" && lower != ":scheme" {
			return Unknown, fmt.Sprintf("it matches header %s, which the gateway sets itself", name)
		}
		values, present := h[http.CanonicalHeaderKey(name)]
		r, w := NoMatch, ""
		if present {
			if m, _ := sm.(map[string]any); len(m) == 0 {
				r = Match
			} else {
				r, w = stringMatch(sm, strings.Join(values, ","), false, "header "+name)
			}
		}
		if without && r != Unknown {
			r = result(r == NoMatch)
		}
		switch r {
		case NoMatch:
			return NoMatch, ""
		case Unknown:
			res, why = Unknown, w
		}
	}
	return res, why
}

// queryMatches: every named query parameter must be present and match its StringMatch (exact,
// prefix or regex; an empty one matches presence).
func queryMatches(v any, q url.Values) (Result, string) {
	qm, _ := v.(map[string]any)
	for name, sm := range qm {
		values, present := q[name]
		if !present {
			return NoMatch, ""
		}
		if m, _ := sm.(map[string]any); len(m) == 0 {
			continue
		}
		r, w := stringMatch(sm, values[0], false, "query parameter "+name)
		if r != Match {
			return r, w
		}
	}
	return Match, ""
}

// stringMatch evaluates an Istio StringMatch (exactly one of exact, prefix, regex) on s. Regexes are
// RE2 and must match the whole value, as Envoy's safe_regex does. An empty or unknown StringMatch
// on a field other than a header is Unknown.
func stringMatch(v any, s string, ignoreCase bool, what string) (Result, string) {
	m, _ := v.(map[string]any)
	if len(m) != 1 {
		return Unknown, fmt.Sprintf("its %s match %s is not one of exact, prefix or regex", what, kinds(v))
	}
	for kind, x := range m {
		want, ok := x.(string)
		if !ok {
			return Unknown, fmt.Sprintf("its %s %s match is not a string", what, kind)
		}
		if ignoreCase {
			want, s = strings.ToLower(want), strings.ToLower(s)
		}
		switch kind {
		case "exact":
			return result(s == want), ""
		case "prefix":
			return result(strings.HasPrefix(s, want)), ""
		case "regex":
			re, err := compile(want, ignoreCase)
			if err != nil {
				return Unknown, fmt.Sprintf("its %s regex does not compile as RE2 (%s)", what, regexProblem(err))
			}
			return result(re.MatchString(s)), ""
		}
	}
	return Unknown, fmt.Sprintf("its %s match %s is not one of exact, prefix or regex", what, kinds(v))
}

// kinds describes a StringMatch by its members' names only ("{exact, prefix}"), never their values:
// a header match's value may be a credential (an Authorization or api-key header a route requires),
// and a refusal is printed to a pipeline's log.
func kinds(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Sprintf("of type %T", v)
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return "{" + strings.Join(names, ", ") + "}"
}

// regexProblem is what is wrong with a regex, without the part of the pattern Go's message quotes
// (which may be a credential the route matches).
func regexProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return string(se.Code)
	}
	return "it does not parse"
}

var regexes sync.Map // pattern → *regexp.Regexp: a file of many lines checks the same few routes

func compile(pattern string, ignoreCase bool) (*regexp.Regexp, error) {
	if ignoreCase {
		pattern = "(?i)" + pattern
	}
	if re, ok := regexes.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return nil, err
	}
	regexes.Store(pattern, re)
	return re, nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func strings1(v any) []string {
	xs, _ := v.([]any)
	var out []string
	for _, x := range xs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	if ss, ok := v.([]string); ok {
		out = append(out, ss...)
	}
	return out
}

// Weights is where a route sends the requests it takes: the weight of each destination host's
// version (versionOf maps a host to "blue", "green" or "" for any other Service), only destinations
// with weight above 0 (a single destination without weight has all of it, 100). Terminal says what
// the route does instead when it sends nothing to a destination: it "redirects", "answers itself"
// (directResponse) or "delegates" to another VirtualService; "" when it routes.
func Weights(route map[string]any, versionOf func(host string) string) (weights map[string]float64, terminal string) {
	switch {
	case route["delegate"] != nil:
		return nil, "delegates"
	case route["redirect"] != nil:
		return nil, "redirects"
	case route["directResponse"] != nil:
		return nil, "answers itself"
	}
	dests, _ := route["route"].([]any)
	weights = map[string]float64{}
	for _, x := range dests {
		d, _ := x.(map[string]any)
		dd, _ := d["destination"].(map[string]any)
		host, _ := dd["host"].(string)
		w, found := d["weight"]
		wf, _ := number(w)
		if len(dests) == 1 && !found {
			wf = 100
		}
		if wf > 0 {
			weights[versionOf(host)] += wf
		}
	}
	return weights, ""
}

// Gateways are the VirtualService's own gateways (spec.gateways) but the mesh, as namespace/name
// (a short name is in namespace ns).
func Gateways(vs map[string]any, ns string) []string {
	spec := vs
	if s, ok := vs["spec"].(map[string]any); ok {
		spec = s
	}
	var out []string
	for _, g := range strings1(spec["gateways"]) {
		if g == "mesh" {
			continue
		}
		if !strings.Contains(g, "/") {
			g = ns + "/" + g
		}
		out = append(out, g)
	}
	return out
}
