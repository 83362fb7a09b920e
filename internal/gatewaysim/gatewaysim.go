// Package gatewaysim stands in for the Istio ingress gateway in tests: a reverse proxy that sends a
// request carrying one of the header routes to that route's version, and every other request to a
// version picked at random by weight, as Istio's weighted default route does. Its weights can
// differ from what the cluster claims, which is how tests show that verify catches a wrong split.
// It exports what it routes as Istio's standard metrics would count it (Metrics), for a real
// Prometheus to scrape. It is test support only; nothing in the mlcanary binary uses it.
package gatewaysim

import (
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
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

// ServeHTTP routes like the VirtualService: header routes first, then the weighted default. Each
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

// route picks the version a request goes to, and says whether a header route picked it.
func (p *Proxy) route(r *http.Request) (version string, byHeader bool) {
	if p.cfg.VirtualService != nil {
		return p.routeVS(r)
	}
	for _, rt := range p.cfg.Routes {
		if strings.HasPrefix(r.URL.Path, rt.Path) && r.Header.Get(rt.Header) == rt.Value {
			return rt.Version, true
		}
	}
	return p.weighted(), false
}

// routeVS routes r by the VirtualService (Config.VirtualService); a route other than mlcanary's
// default route counts as a header route (not mirrored).
func (p *Proxy) routeVS(r *http.Request) (version string, byHeader bool) {
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
	return p.pick(summary.Weights{Green: int(weights["green"]), Blue: int(weights["blue"])}), name != routing.DefaultRouteName
}

// weighted picks a version by the default route's weights ("" when they send traffic nowhere).
func (p *Proxy) weighted() string {
	return p.pick(p.cfg.Weights)
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
