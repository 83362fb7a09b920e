package gatewaysim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// copies are the mirrored requests the proxy sent and is sending.
type copies struct {
	sent     atomic.Int64
	answered atomic.Int64
	inflight sync.WaitGroup
}

// mirror sends, with chance cfg.Mirror%, a copy of r (a request the default route took) to blue,
// fire and forget as Envoy mirrors: on its own goroutine, its answer read and discarded, never
// delaying or changing r's. The copy is the same request — method, path, query, headers, body —
// with the same Host: Istio 1.28 and later no longer append "-shadow" to a mirrored request's
// authority, so blue cannot tell it from a client's. It returns r with its body readable again.
func (p *Proxy) mirror(r *http.Request) *http.Request {
	blue, ok := p.cfg.Backends["blue"]
	if p.cfg.Mirror <= 0 || !ok {
		return r
	}
	p.mu.Lock()
	hit := p.rng.IntN(100) < p.cfg.Mirror
	p.mu.Unlock()
	if !hit {
		return r
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	target, err := url.Parse(blue)
	if err != nil {
		return r
	}
	target.Path, target.RawQuery = r.URL.Path, r.URL.RawQuery
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // not the client's: it may hang up first
	cp, err := http.NewRequestWithContext(ctx, r.Method, target.String(), bytes.NewReader(body))
	if err != nil {
		cancel()
		return r
	}
	cp.Header = r.Header.Clone()
	cp.Host = r.Host
	p.copies.sent.Add(1)
	p.copies.inflight.Add(1)
	go func() {
		defer p.copies.inflight.Done()
		defer cancel()
		start := time.Now()
		resp, err := http.DefaultClient.Do(cp)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		p.copies.answered.Add(1)
		// Blue's sidecar reports the copy as any request it serves (reporter="destination"), so an
		// analysis of blue's metrics judges it on its mirrored traffic.
		p.record(outcome{version: "blue", code: resp.StatusCode, flags: "-", duration: time.Since(start), mirrored: true})
	}()
	return r
}

// Mirrored waits for the copies in flight and returns how many requests were mirrored to blue and
// how many of those blue answered (any status).
func (p *Proxy) Mirrored() (sent, answered int64) {
	p.copies.inflight.Wait()
	return p.copies.sent.Load(), p.copies.answered.Load()
}
