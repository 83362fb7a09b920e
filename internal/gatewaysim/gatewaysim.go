// Package gatewaysim stands in for the Istio ingress gateway in tests: a reverse proxy that sends a
// request carrying one of the header routes to that route's version, and every other request to a
// version picked at random by weight, as Istio's weighted default route does. Its weights can
// differ from what the cluster claims, which is how tests show that verify catches a wrong split.
// It exports what it routes as Istio's standard metrics would count it (Metrics), for a real
// Prometheus to scrape. It is test support only; nothing in the mlcanary binary uses it.
package gatewaysim

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/mlcanary/mlcanary/internal/routematch"
	"github.com/mlcanary/mlcanary/internal/routing"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Config describes the simulated gateway.
type Config struct {
	// Backends maps a version ("green", "blue") to the base URL of its scoring server.
	Backends map[string]string
	// Weights is the split the default route really applies.
	Weights summary.Weights
	// Routes are the header routes the gateway honours.
	Routes []summary.HeaderRoute
	// Seed makes the weighted picks repeatable: for a given seed the n-th pick is always the same,
	// whatever order concurrent requests arrive in.
	Seed uint64
	// Mesh names the objects the exported metrics label requests with.
	Mesh Mesh
	// Mirror is the percentage (0..100) of the default route's requests also sent to blue, fire and
	// forget, as Istio's mirror does (Shadow_N; mirror.go): the client gets only the answer of the
	// version the weights picked.
	Mirror int
	// VirtualService, when set, is what the gateway routes by instead of Routes and Weights: the
	// first http route a request takes, as Istio does (routematch, the same rules compare checks
	// routes with), its destinations picked by weight; VersionOf maps a destination host to "blue" or
	// "green", Gateway is the Gateway (namespace/name) requests arrive through, Namespace the
	// VirtualService's. A request no route takes, or one routematch cannot decide, is answered 404.
	VirtualService map[string]any
	VersionOf      func(host string) string
	Gateway        string
	Namespace      string
}

// Proxy is the simulated gateway; it is an http.Handler.
type Proxy struct {
	cfg     Config
	proxies map[string]*httputil.ReverseProxy
	mu      sync.Mutex
	rng     *rand.Rand
	metrics *metrics
	copies  copies
}

// New builds the proxy; it panics on a backend URL that does not parse, since tests build them.
func New(cfg Config) *Proxy {
	if cfg.VirtualService == nil {
		cfg.VirtualService, cfg.Gateway, cfg.Namespace = routesVS(cfg), simGateway, "gatewaysim"
		cfg.VersionOf = func(host string) string { return host }
	}
	p := &Proxy{cfg: cfg, proxies: map[string]*httputil.ReverseProxy{}, rng: rand.New(rand.NewPCG(cfg.Seed, 1)), metrics: newMetrics()}
	for v, raw := range cfg.Backends {
		u, err := url.Parse(raw)
		if err != nil {
			panic(err)
		}
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.ErrorHandler = badGateway // quietly: clients that hang up on purpose are not news
		p.proxies[v] = rp
	}
	return p
}

// ServeHTTP routes like the VirtualService (routematch): header routes first, then the weighted
// default. Each
// request is counted in the metrics once answered.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	version, byHeader := p.route(r)
	rec := &recorder{ResponseWriter: w}
	rp, ok := p.proxies[version]
	if !ok {
		http.Error(rec, "no healthy upstream", http.StatusServiceUnavailable)
		flags := "UH"
		if version == "" {
			flags = "NR"
		}
		p.record(outcome{version: version, code: rec.code, flags: flags, duration: time.Since(start)})
		return
	}
	if !byHeader {
		r = p.mirror(r)
	}
	rp.ServeHTTP(rec, r)
	flags, code := "-", rec.code
	switch {
	case rec.upstreamFailed:
		flags = "UF"
	case rec.clientGone:
		flags, code = "DC", 0 // Envoy: downstream connection termination, no response code
	}
	p.record(outcome{version: version, code: code, flags: flags, duration: time.Since(start)})
}

// simGateway is the Gateway a VirtualService built from Routes and Weights is bound to.
const simGateway = "gatewaysim/gateway"

// routesVS is the VirtualService Routes and Weights describe, as mlcanary renders it: each header
// route (uri prefix, exact header value) to its version, then the weighted default route. Routing by
// it (routematch) is the one matcher gatewaysim has, the one compare checks routes with.
func routesVS(cfg Config) map[string]any {
	var routes []any
	for i, rt := range cfg.Routes {
		routes = append(routes, map[string]any{"name": fmt.Sprintf("header-%d", i),
			"match": []any{map[string]any{"uri": map[string]any{"prefix": rt.Path}, "headers": map[string]any{rt.Header: map[string]any{"exact": rt.Value}}}},
			"route": []any{map[string]any{"destination": map[string]any{"host": rt.Version}}}})
	}
	routes = append(routes, map[string]any{"name": routing.DefaultRouteName, "route": []any{
		map[string]any{"destination": map[string]any{"host": "green"}, "weight": int64(cfg.Weights.Green)},
		map[string]any{"destination": map[string]any{"host": "blue"}, "weight": int64(cfg.Weights.Blue)}}})
	return map[string]any{"spec": map[string]any{"gateways": []any{simGateway}, "http": routes}}
}

// route picks the version r goes to by the VirtualService (Config.VirtualService, or the one Routes
// and Weights describe), and says whether a header route picked it: a route other than mlcanary's
// default route counts as one (its requests are not mirrored).
func (p *Proxy) route(r *http.Request) (version string, byHeader bool) {
	port := 0
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, ps, err := net.SplitHostPort(a.String()); err == nil {
			port, _ = strconv.Atoi(ps)
		}
	}
	d := routematch.First(p.cfg.VirtualService, routematch.Request{Scheme: "http", Method: r.Method, Path: r.URL.Path,
		Query: r.URL.Query(), Authority: r.Host, Port: port, Header: r.Header, Gateway: p.cfg.Gateway, Namespace: p.cfg.Namespace})
	if d.Index < 0 || d.Unknown != "" {
		return "", true
	}
	weights, _ := routematch.Weights(d.Route, p.cfg.VersionOf)
	name, _ := d.Route["name"].(string)
	if name != routing.DefaultRouteName && len(weights) == 1 { // a header route: no draw, so Seed's picks stay the default route's
		for v := range weights {
			return v, true
		}
	}
	return p.pick(summary.Weights{Green: int(weights["green"]), Blue: int(weights["blue"])}), name != routing.DefaultRouteName
}

// pick picks a version by weights ("" when they send traffic nowhere).
func (p *Proxy) pick(w summary.Weights) string {
	total := w.Green + w.Blue
	if total <= 0 {
		return ""
	}
	p.mu.Lock()
	pick := p.rng.IntN(total)
	p.mu.Unlock()
	if pick < w.Green {
		return "green"
	}
	return "blue"
}

// badGateway answers 502 when the upstream fails, as Envoy does, without logging, and marks the
// request as answered by the proxy (UF) or given up by its client (DC).
func badGateway(w http.ResponseWriter, r *http.Request, err error) {
	if rec, ok := w.(*recorder); ok {
		rec.upstreamFailed = r.Context().Err() == nil
		rec.clientGone = !rec.upstreamFailed
	}
	http.Error(w, "upstream error: "+err.Error(), http.StatusBadGateway)
}
