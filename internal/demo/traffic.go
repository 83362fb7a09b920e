package demo

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// The failure rates of the last release's traffic: green (model B) fails 1% of requests, blue
// (model C) 6%, five points more than the one point --max-error-increase allows by default.
const (
	GreenFailRate = 0.01
	BlueFailRate  = 0.06
)

// traffic is what the last release's analysis measures, since no pod runs here: scoring mockups of
// green and blue behind the test gateway, which splits 50/50 (as Blue_50 tells Istio to) and exports
// what it routes as Istio's proxies count it; a real Prometheus scraping it every second; and
// clients sending about 400 requests per second through it until stop.
type traffic struct {
	prom   *promtest.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closes []func()
}

// startTraffic starts it all, Prometheus's data in a directory of dir.
func startTraffic(ctx context.Context, dir string) (*traffic, error) {
	tr := &traffic{}
	backends := map[string]string{}
	for v, rate := range map[string]float64{"green": GreenFailRate, "blue": BlueFailRate} {
		srv := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "model " + v, FailRate: rate}))
		tr.closes = append(tr.closes, srv.Close)
		backends[v] = srv.URL
	}
	gw := gatewaysim.New(gatewaysim.Config{Backends: backends, Weights: summary.Weights{Green: 50, Blue: 50}, Seed: 1,
		Mesh: gatewaysim.Mesh{Namespace: "abtesting"}})
	front := httptest.NewServer(gw)
	tr.closes = append(tr.closes, front.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tr.stop()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", gw.Metrics())
	metrics := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = metrics.Serve(l) }()
	tr.closes = append(tr.closes, func() { _ = metrics.Close() })
	promDir, err := os.MkdirTemp(dir, "prometheus-")
	if err != nil {
		tr.stop()
		return nil, err
	}
	tr.prom, err = promtest.Start(ctx, promDir, promtest.Options{Targets: []string{l.Addr().String()}, ScrapeInterval: time.Second})
	if errors.Is(err, promtest.ErrNotBuilt) {
		tr.stop()
		return nil, errors.New("prometheus is not built: run make demo, which builds it (" + promtest.Build("prometheus") + ")")
	}
	if err != nil {
		tr.stop()
		return nil, err
	}
	tr.closes = append(tr.closes, tr.prom.Stop)
	lctx, cancel := context.WithCancel(ctx)
	tr.cancel = cancel
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	for range 4 {
		tr.wg.Go(func() { load(lctx, client, front.URL+"/score") })
	}
	return tr, nil
}

// load sends GET url about 100 times a second until ctx ends.
func load(ctx context.Context, client *http.Client, url string) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
}

// stop ends the load and stops everything started, the last first.
func (tr *traffic) stop() {
	if tr.cancel != nil {
		tr.cancel()
		tr.wg.Wait()
	}
	for i := len(tr.closes) - 1; i >= 0; i-- {
		tr.closes[i]()
	}
}
