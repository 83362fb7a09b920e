package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/routematch"
)

// Live is the live VirtualService compare's requests go through, as the API server returned it:
// compare checks, before sending anything, that each line's copy for blue reaches blue's own
// Service and its copy for green green's, the way Istio's gateway routes them (routematch). Without
// that, a copy falling through to the default route (after Green_100 or Rollback, before Blue_0, a
// route only for in-mesh callers, another team's earlier route, a match compare's request does not
// satisfy) would be answered by the wrong version and compare would compare green with green.
type Live struct {
	// Namespace and Name name the VirtualService; Object is it (nil: it does not exist).
	Namespace, Name string
	Object          map[string]any
	// Gateway is the Istio Gateway compare's requests arrive through, namespace/name: the only one
	// the VirtualService is bound to, or mlcanary's (--gateway-name) among several; "" unknown.
	Gateway string
	// VersionOf maps a destination host to "blue" or "green" ("" for neither).
	VersionOf func(host string) string
}

// NewLive builds the Live check of the VirtualService vs (nil when it does not exist) of cfg's
// namespace, for the gateway compare's requests arrive through: the VirtualService's only gateway,
// or cfg.Gateway when it is one of several.
func NewLive(cfg *config.Config, vs map[string]any) *Live {
	l := &Live{Namespace: cfg.Namespace, Name: cfg.VirtualService, Object: vs, VersionOf: func(host string) string {
		v, _ := ownership.VersionOf(cfg, host)
		return string(v)
	}}
	gws := routematch.Gateways(vs, cfg.Namespace)
	switch mine := cfg.Namespace + "/" + cfg.Gateway; {
	case len(gws) == 1:
		l.Gateway = gws[0]
	case slices.Contains(gws, mine):
		l.Gateway = mine
	}
	return l
}

// checkRoutes reads every line of requests (which must be an io.ReadSeeker: it is read again to send)
// and checks each line's two copies (Options.request) with check; lines alike in path and headers are
// checked once. The error is check's, naming the line; nothing was sent.
func checkRoutes(requests io.Reader, name string, o Options) error {
	rs, ok := requests.(io.ReadSeeker)
	if !ok {
		return errors.New("compare: the requests must be readable twice to check their routes first")
	}
	checked := map[string]bool{}
	rd := NewReader(rs, name)
	for {
		req, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		key := req.Path + "\x00" + fmt.Sprint(req.Header)
		if checked[key] {
			continue
		}
		checked[key] = true
		if err := o.Live.check(&o, req); err != nil {
			return err
		}
	}
	_, err := rs.Seek(0, io.SeekStart)
	return err
}

// check decides where line req's copy for blue and its copy for green go: each must be taken by a
// route that sends all its weight to that version's own Service. The error is one sentence naming
// the line, the version, and the route that takes its copy (or that none does); nothing was compared.
func (l *Live) check(o *Options, req Request) error {
	if l.Object == nil {
		return fmt.Errorf("VirtualService %s/%s does not exist, so no route reaches blue or green; nothing was compared", l.Namespace, l.Name)
	}
	for _, v := range []config.Version{config.Blue, config.Green} {
		hr, err := o.request(context.Background(), req, string(v))
		if err != nil {
			return fmt.Errorf("line %d: %w", req.Line, err)
		}
		u, err := url.Parse(o.Gateway)
		if err != nil {
			return fmt.Errorf("the gateway address does not parse: %w", err)
		}
		mr := routematch.Request{Scheme: u.Scheme, Method: hr.Method, Path: hr.URL.Path, Query: hr.URL.Query(),
			Authority: hr.Host, Port: port(u), Header: hr.Header.Clone(), Gateway: l.Gateway, Namespace: l.Namespace}
		if mr.Authority == "" {
			mr.Authority = u.Host
		}
		if mr.Header.Get("User-Agent") == "" {
			mr.Header.Set("User-Agent", "Go-http-client/1.1") // what Go's client sends then
		}
		d := routematch.First(l.Object, mr)
		what := fmt.Sprintf("line %d's copy for %s (%s %s with %s: %s)", req.Line, v, hr.Method, mr.Path, o.Header, v)
		switch {
		case d.Unserved:
			return fmt.Errorf("VirtualService %s/%s does not serve the Host compare sends (%s; its hosts: %s), so the gateway would not route %s by it: give --host one of its hosts; nothing was compared",
				l.Namespace, l.Name, mr.Authority, strings.Join(hosts(l.Object), ", "), what)
		case d.Index < 0:
			return fmt.Errorf("no route of VirtualService %s/%s takes %s, so the gateway would answer it 404; nothing was compared",
				l.Namespace, l.Name, what)
		case d.Unknown != "":
			return fmt.Errorf("%s may be taken by %s, but compare cannot tell from the gateway's side: %s; nothing was compared",
				what, ownership.DescribeRoute(d.Index, d.Route), d.Unknown)
		}
		got, why := l.destination(d.Route)
		if got != string(v) {
			return fmt.Errorf("%s is taken by %s, which %s, not to %s's own Service, so compare could not tell who answered it; nothing was compared",
				what, ownership.DescribeRoute(d.Index, d.Route), why, v)
		}
	}
	return nil
}

// destination is the version a route sends all its weight to ("" when none: a redirect, a direct
// answer, a delegate, another Service, or a split; routematch.Weights), and what it does, for the
// message. A 100/0 pair sends all its weight to one version.
func (l *Live) destination(route map[string]any) (version, does string) {
	weights, terminal := routematch.Weights(route, l.VersionOf)
	switch {
	case terminal == "delegates":
		return "", "delegates to another VirtualService, which compare does not follow"
	case terminal != "":
		return "", terminal + " instead of routing it"
	case len(weights) == 0:
		return "", "sends it nowhere"
	case len(weights) == 1 && weights["blue"] > 0:
		return "blue", "sends it to blue's Service"
	case len(weights) == 1 && weights["green"] > 0:
		return "green", "sends it to green's Service"
	case len(weights) == 1:
		return "", "sends it to another Service"
	}
	var parts []string
	for _, v := range []string{"green", "blue", ""} {
		if w, ok := weights[v]; ok {
			name := v
			if v == "" {
				name = "other Services"
			}
			parts = append(parts, fmt.Sprintf("%s %g", name, w))
		}
	}
	return "", "splits it by weight (" + strings.Join(parts, ", ") + ")"
}

// port is the port a request to u arrives on: u's own, else its scheme's.
func port(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if _, p, err := net.SplitHostPort(u.Host); err == nil {
		n, _ := strconv.Atoi(p)
		return n
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// hosts are a VirtualService's spec.hosts.
func hosts(vs map[string]any) []string {
	spec, _ := vs["spec"].(map[string]any)
	xs, _ := spec["hosts"].([]any)
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if h, ok := x.(string); ok {
			out = append(out, h)
		}
	}
	return out
}
