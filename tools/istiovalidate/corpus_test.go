package istiovalidate

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// liveCase is one generated live state and the stage routing mlcanary would write over it.
type liveCase struct {
	cfg     config.Config
	routing routing.Routing
	vs, gw  *unstructured.Unstructured // nil: absent
}

// gen draws live states seeded and deterministically: what other people put on a VirtualService
// and a Gateway that mlcanary merges into — odd weights, header names, regexes, redirects, direct
// responses, delegates, timeouts, hosts (wildcards, duplicates, IPs, short names), gateways
// (ns/name, mesh, legacy FQDN), Gateway servers (HTTPS and TLS settings, name and port collisions)
// — some valid for Istio and some not (a cluster without the webhook holds both).
type gen struct {
	r *rand.Rand
	// bad is the chance, per drawn entry, of drawing from the values Istio rejects: 0 for a third
	// of the cases (a cluster with the webhook), more for the rest.
	bad float64
}

func pick[T any](g *gen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

// odd draws from good, or with chance g.bad from bad (values Istio rejects, or that make a merge
// Istio rejects).
func odd[T any](g *gen, good, bad []T) T {
	if len(bad) > 0 && g.chance(g.bad) {
		return pick(g, bad...)
	}
	return pick(g, good...)
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) liveCase() liveCase {
	g.bad = pick(g, 0, 0, 0.03, 0.1)
	c := config.Default()
	c.Namespace = "demo"
	c.Hosts = pick(g, []string{"*"}, []string{"model.example.com"}, []string{"model.example.com", "api.example.com"}, []string{"*.example.com"})
	c.GatewayPort = pick[int32](g, 80, 80, 8080, 443)
	lc := liveCase{cfg: c, routing: routing.NewRouting(g.chance(0.6), g.chance(0.6), 0, 0)}
	w := pick(g, [2]int{100, 0}, [2]int{0, 100}, [2]int{50, 50}, [2]int{90, 10}, [2]int{0, 0})
	lc.routing.Weights[config.Green], lc.routing.Weights[config.Blue] = w[0], w[1]
	if w == [2]int{100, 0} && g.chance(0.4) { // a Shadow_N stage
		lc.routing.Mirror = pick(g, 1, 10, 100)
	}
	if g.chance(0.9) {
		lc.vs = g.virtualService(&c)
	}
	if g.chance(0.85) {
		lc.gw = g.gateway(&c)
	}
	return lc
}

func (g *gen) virtualService(c *config.Config) *unstructured.Unstructured {
	var hosts []any
	for _, h := range pick(g, c.Hosts, c.Hosts, []string{}, []string{"*"}) {
		hosts = append(hosts, h)
	}
	for n := pick(g, 0, 0, 0, 1, 2); n > 0; n-- {
		hosts = append(hosts, odd(g, []string{"api.example.com", "Model.Example.COM", "10.0.0.7", "model-svc-green", "model.demo.svc.cluster.local"},
			[]string{"*", "model.example.com", "*.example.com", "bad_host", "*.com", "a.*.example.com", "123"}))
	}
	var gateways []any
	if g.chance(0.85) {
		gateways = append(gateways, c.Gateway)
	}
	for n := pick(g, 0, 0, 0, 1, 2); n > 0; n-- {
		gateways = append(gateways, odd(g, []string{"istio-system/public-gateway", "demo/mlmodel-gateway", "gw.istio-system", "Upper/gw"},
			[]string{"mesh", "bad/na_me", "/x", "a/b/c"}))
	}
	var http []any
	if g.chance(0.3) { // the documented hand-written routes, adopted as mlcanary's
		http = append(http, documented(c, "green"), map[string]any{"route": []any{dest("model-svc-green", -1, 5001)}})
	} else if g.chance(0.4) { // routes mlcanary wrote before
		http = append(http, map[string]any{"name": "mlcanary-blue", "match": documented(c, "blue")["match"], "route": []any{dest("model-svc-blue", 100, 5001)}})
	}
	var mirrorDefault map[string]any
	if g.chance(0.2) { // a default route with a mirror: Shadow_N's (recorded) or someone else's
		mirrorDefault = map[string]any{"name": "mlcanary-default", "route": []any{dest("model-svc-green", 100, 5001)}}
		g.mirror(mirrorDefault)
	}
	for n := pick(g, 0, 1, 1, 2, 3); n > 0; n-- {
		http = append(http, g.foreignRoute())
	}
	if mirrorDefault != nil {
		http = append(http, mirrorDefault)
	}
	spec := map[string]any{"http": http}
	if hosts != nil {
		spec["hosts"] = hosts
	}
	if gateways != nil {
		spec["gateways"] = gateways
	}
	ann := map[string]any{}
	if g.chance(0.5) {
		ann[routing.OwnedHostsAnnotation] = strings.Join(c.Hosts, ",")
		ann[routing.OwnedGatewaysAnnotation] = c.Gateway
	}
	if mirrorDefault != nil && g.chance(0.6) {
		ann[routing.OwnedRoutesAnnotation] = "mlcanary-default"
		ann[routing.OwnedMirrorAnnotation] = "mlcanary-default"
	}
	return object("VirtualService", c.VirtualService, ann, spec)
}

func documented(c *config.Config, v string) map[string]any {
	return map[string]any{"match": []any{map[string]any{"uri": map[string]any{"prefix": c.URIPrefix},
		"headers": map[string]any{c.Header: map[string]any{"exact": v}}}},
		"route": []any{dest("model-svc-"+v, -1, 5001)}}
}

// dest is a destination; weight -1 and port 0 leave the field out.
func dest(host string, weight, port int) map[string]any {
	d := map[string]any{"destination": map[string]any{"host": host}}
	if port != 0 {
		d["destination"].(map[string]any)["port"] = map[string]any{"number": port}
	}
	if weight >= 0 {
		d["weight"] = weight
	}
	return d
}

func (g *gen) stringMatch() map[string]any {
	switch g.r.IntN(4) {
	case 0:
		return map[string]any{"exact": pick(g, "1", "gold", "")}
	case 1:
		return map[string]any{"prefix": odd(g, []string{"/v1", "a"}, []string{""})}
	case 2:
		return map[string]any{"regex": odd(g, []string{"^/v[0-9]+/.*$", "a{2,}", `\d+`, "(?i)legacy"}, []string{"(", "", strings.Repeat("a", 1100)})}
	}
	return map[string]any{}
}

func (g *gen) foreignRoute() map[string]any {
	r := map[string]any{}
	if name := pick(g, "", "", "explainer-split", "legacy", "r", "r"); name != "" {
		r["name"] = name
	}
	if !g.chance(0.12) { // else a catch-all
		var matches []any
		for n := pick(g, 1, 1, 2); n > 0; n-- {
			m := map[string]any{}
			if g.chance(0.6) {
				m["uri"] = g.stringMatch()
			}
			if g.chance(0.5) {
				m["headers"] = map[string]any{odd(g, []string{"x-api-version", "X-Legacy-Client", "@request.auth.claims.tier",
					"@request.auth.claims[tier]", ":authority", "x_y"}, []string{"bad header", "@request.auth.claims"}): g.stringMatch()}
			}
			if g.chance(0.15) {
				m["withoutHeaders"] = map[string]any{odd(g, []string{"x-skip"}, []string{"Bad Header"}): pick(g, map[string]any{"regex": "*"}, g.stringMatch())}
			}
			if g.chance(0.15) {
				m["method"] = g.stringMatch()
			}
			if g.chance(0.1) {
				m["queryParams"] = map[string]any{"v": g.stringMatch()}
			}
			if g.chance(0.1) {
				m["port"] = odd(g, []int{8080}, []int{70000})
			}
			if g.chance(0.1) {
				m["sourceNamespace"] = odd(g, []string{"other"}, []string{"Bad_NS"})
			}
			if g.chance(0.05) {
				m["gateways"] = []any{odd(g, []string{"mesh", "istio-system/gw"}, []string{"bad/na_me"})}
			}
			matches = append(matches, m)
		}
		r["match"] = matches
	}
	body := g.r.IntN(10)
	if body == 3 && !g.chance(g.bad) {
		body = 4
	}
	switch body {
	case 0:
		r["redirect"] = odd(g, []map[string]any{{"uri": "/new"}, {"prefixRewrite": "/v2"}, {"authority": "a.example.com", "redirectCode": 308}},
			[]map[string]any{{"scheme": "ftp"}, {"redirectCode": 200, "uri": "/x"}, {}, {"uri": "/a", "prefixRewrite": "/b"}, {"port": 70000}})
		if g.chance(g.bad) {
			r["route"] = []any{dest("a", -1, 0)}
		}
	case 1:
		r["directResponse"] = map[string]any{"status": odd(g, []int{200, 404, 600}, []int{199, 601})}
		if g.chance(g.bad) {
			r["route"] = []any{dest("a", -1, 0)}
		}
	case 2:
		r["delegate"] = map[string]any{"name": "delegated", "namespace": "other"}
		if g.chance(g.bad) {
			r["route"] = []any{dest("a", -1, 0)}
		}
	case 3: // nothing to do: Istio rejects it
	default:
		var ds []any
		for n := pick(g, 1, 1, 2, 2, 3); n > 0; n-- {
			ds = append(ds, dest(odd(g, []string{"explainer-a", "explainer-b.demo.svc.cluster.local", "model-svc-green", "model-svc-blue", "*.demo.svc.cluster.local"}, []string{"*", "", "bad_host"}),
				odd(g, []int{-1, 0, 1, 2, 50, 100}, []int{-5}), odd(g, []int{0, 0, 5001}, []int{70000})))
		}
		if g.chance(0.1) {
			ds[0].(map[string]any)["destination"].(map[string]any)["subset"] = odd(g, []string{"v1", "V1"}, []string{"V_1"})
		}
		r["route"] = ds
	}
	if g.chance(0.1) {
		r["timeout"] = odd(g, []string{"30s", "1.5s"}, []string{"0.0005s", "0s"})
	}
	if g.chance(0.15) {
		g.mirror(r)
	}
	return r
}

// mirror gives route r a mirror as people write them: `mirror` with or without mirrorPercentage
// (whole or fractional), or a `mirrors` list, to blue or elsewhere; bad ones have a share outside
// 0–100, a host Istio refuses, a port out of range, or both `mirror` and `mirrors`.
func (g *gen) mirror(r map[string]any) {
	to := func() map[string]any {
		return dest(odd(g, []string{"model-svc-blue", "model-svc-blue.demo.svc.cluster.local", "audit.tools.svc.cluster.local", "*.demo.svc.cluster.local"},
			[]string{"*", "bad_host"}), -1, odd(g, []int{0, 5001}, []int{70000}))["destination"].(map[string]any)
	}
	share := func() map[string]any {
		return map[string]any{"value": odd(g, []any{0, 10, 0.5, 100}, []any{101, -1, 100.5})}
	}
	switch g.r.IntN(3) {
	case 0:
		r["mirror"] = to()
		if g.chance(0.8) {
			r["mirrorPercentage"] = share()
		}
	case 1:
		m := map[string]any{"destination": to()}
		if g.chance(0.7) {
			m["percentage"] = share()
		}
		r["mirrors"] = []any{m}
	default:
		r["mirror"] = to()
		if g.chance(g.bad * 3) {
			r["mirrors"] = []any{map[string]any{"destination": to()}}
		}
	}
}

func (g *gen) gateway(c *config.Config) *unstructured.Unstructured {
	var servers []any
	ann := map[string]any{}
	if g.chance(0.5) { // mlcanary's own server, from this or an earlier --gateway-port
		p := pick(g, int(c.GatewayPort), 80, 8080)
		servers = append(servers, server(p, pick(g, "http", fmt.Sprintf("http-%d", p)), "HTTP", c.Hosts, nil))
		ann[routing.OwnedPortsAnnotation] = fmt.Sprint(p)
		ann[routing.OwnedHostsAnnotation] = strings.Join(c.Hosts, ",")
	}
	for n := pick(g, 0, 1, 1, 2, 3); n > 0; n-- {
		hosts := []string{odd(g, []string{"*", "model.example.com", "ns/model.example.com", "*/x.example.com", "10.0.0.1", "./a.example.com"},
			[]string{"model", "a*.example.com", "Bad_NS/a.example.com"})}
		if g.chance(g.bad / 3) {
			hosts = nil
		}
		proto := odd(g, []string{"HTTP", "HTTPS", "HTTPS", "TLS", "TCP", "http2"}, []string{"QUIC"})
		tls := g.tls(proto)
		servers = append(servers, server(odd(g, []int{80, 80, 443, 8080, 8443}, []int{0, 70000}), odd(g, []string{"http", "http", "https", "http-8080", "tls"}, []string{""}), proto, hosts, tls))
	}
	if servers == nil {
		servers = []any{}
	}
	sel := map[string]any{"istio": "ingressgateway"}
	return object("Gateway", c.Gateway, ann, map[string]any{"selector": sel, "servers": servers})
}

func server(port int, name, protocol string, hosts []string, tls map[string]any) map[string]any {
	p := map[string]any{"number": port, "protocol": protocol}
	if name != "" {
		p["name"] = name
	}
	s := map[string]any{"port": p}
	if hosts != nil {
		hs := []any{}
		for _, h := range hosts {
			hs = append(hs, h)
		}
		s["hosts"] = hs
	}
	if tls != nil {
		s["tls"] = tls
	}
	return s
}

// tls draws TLS settings that fit the protocol, or with chance g.bad any.
func (g *gen) tls(protocol string) map[string]any {
	terminating := []map[string]any{
		{"mode": "SIMPLE", "credentialName": "model-cert"},
		{"mode": "SIMPLE", "serverCertificate": "/etc/c.pem", "privateKey": "/etc/k.pem"},
		{"mode": "MUTUAL", "credentialName": "model-cert"},
		{"mode": "MUTUAL", "serverCertificate": "/c", "privateKey": "/k", "caCertificates": "/ca"},
		{"mode": "ISTIO_MUTUAL"},
		{"mode": "PASSTHROUGH"},
		{"mode": "AUTO_PASSTHROUGH", "credentialName": "c"},
		{"mode": "OPTIONAL_MUTUAL", "credentialName": "c", "caCrl": "/crl"},
		{"mode": "MUTUAL", "serverCertificate": "/c", "privateKey": "/k", "caCertificates": "/ca", "caCrl": "/crl"},
	}
	broken := []map[string]any{nil, {"httpsRedirect": true}, {"mode": "SIMPLE", "serverCertificate": "/etc/c.pem"}, {"mode": "SIMPLE"},
		{"mode": "MUTUAL", "serverCertificate": "/c", "privateKey": "/k"}, {"mode": "ISTIO_MUTUAL", "credentialName": "c"},
		{"mode": "SIMPLE", "credentialName": "c", "serverCertificate": "/c", "privateKey": "/k"}, {"mode": "SIMPLE", "credentialName": "c"}}
	switch strings.ToUpper(protocol) {
	case "HTTPS", "TLS":
		return odd(g, terminating, broken)
	case "HTTP", "HTTP2":
		return odd(g, []map[string]any{nil, nil, {"httpsRedirect": true}}, broken)
	}
	return odd(g, []map[string]any{nil}, broken)
}

// object builds a live object as the API server returns it (JSON numbers as int64).
func object(kind, name string, ann, spec map[string]any) *unstructured.Unstructured {
	m := map[string]any{"apiVersion": render.IstioAPIVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": "demo", "resourceVersion": "7", "annotations": ann}, "spec": spec}
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		panic(err)
	}
	return u
}
