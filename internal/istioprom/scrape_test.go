package istioprom_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// scrapeInterval is how often the tests' Prometheus scrapes the gateways: short, so that the data
// is fresh a second after the traffic.
const scrapeInterval = time.Second

// mesh is one namespace's model behind a gatewaysim that exports Istio's metrics at /metrics on a
// listener of its own (as a proxy serves its stats on a port of its own), which Prometheus scrapes.
// The gateway can be restarted (its counters start again from zero) or stopped (its target goes
// away).
type mesh struct {
	ns      string
	cfg     gatewaysim.Config
	proxy   atomic.Pointer[gatewaysim.Proxy]
	traffic *httptest.Server
	// handling counts the requests the gateway has not finished with: it counts a request once its
	// answer is sent, a moment after the client has it.
	handling atomic.Int64
	addr     string // the metrics listener's address, the scrape target
	mu       sync.Mutex
	metrics  *http.Server
	client   *http.Client
}

// newMesh starts green and blue scoring mockups with their options, the gateway in front of them
// with the header routes x-api-version: blue|green on /score, and its metrics listener.
func newMesh(t *testing.T, ns string, green, blue scoringmock.Options) *mesh {
	t.Helper()
	backends := map[string]string{}
	for v, o := range map[string]scoringmock.Options{"green": green, "blue": blue} {
		srv := httptest.NewServer(scoringmock.Handler(o))
		t.Cleanup(srv.Close)
		backends[v] = srv.URL
	}
	m := &mesh{ns: ns, cfg: gatewaysim.Config{Backends: backends, Weights: summary.Weights{Green: 100}, Seed: 1,
		Routes: []summary.HeaderRoute{
			{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
			{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"},
		}, Mesh: gatewaysim.Mesh{Namespace: ns}},
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	m.proxy.Store(gatewaysim.New(m.cfg))
	m.traffic = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.handling.Add(1)
		defer m.handling.Add(-1)
		m.proxy.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(m.traffic.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = l.Addr().String()
	m.serveMetrics(l)
	t.Cleanup(m.stop)
	return m
}

// serveMetrics serves the current proxy's metrics on l.
func (m *mesh) serveMetrics(l net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.proxy.Load().Metrics())
	m.mu.Lock()
	m.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	srv := m.metrics
	m.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// stop takes the scrape target away: Prometheus's scrapes of it fail from now on.
func (m *mesh) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.metrics != nil {
		_ = m.metrics.Close()
		m.metrics = nil
	}
}

// restart is the gateway's process restarting: its target is gone for down (scrapes fail), then a
// new proxy counting from zero serves on the same address. A failure is t's error.
func (m *mesh) restart(t *testing.T, down time.Duration) {
	t.Helper()
	m.stop()
	m.proxy.Store(gatewaysim.New(m.cfg))
	time.Sleep(down)
	l, err := net.Listen("tcp", m.addr)
	if err != nil {
		t.Error(err)
		return
	}
	m.serveMetrics(l)
}

// send sends n GET /score requests routed to version, 16 at a time; a transport error ends it (a
// 5xx answer is traffic like any other).
func (m *mesh) send(version string, n int) error {
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range jobs {
				if err := m.get(version); err != nil {
					errs <- fmt.Errorf("%s %s: %w", m.ns, version, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (m *mesh) get(version string) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, m.traffic.URL+"/score", nil)
	if err != nil {
		return err
	}
	req.Header.Set("x-api-version", version)
	resp, err := m.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	return nil
}

// both sends n requests to each version at the same time; a failure is t's error (not fatal: it
// may run in a goroutine of the test).
func (m *mesh) both(t *testing.T, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, v := range []string{"blue", "green"} {
		wg.Go(func() { errs[i] = m.send(v, n) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// scraped waits until the gateway has counted every request and prom has scraped it since (at most
// 30s); a failure is t's error.
func (m *mesh) scraped(t *testing.T, prom *promtest.Server) {
	t.Helper()
	for m.handling.Load() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := prom.WaitScraped(context.Background(), m.addr, time.Now(), 30*time.Second); err != nil {
		t.Error(err)
	}
}
