package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// TestStageAnalysisRealPrometheus: `mlcanary stage Blue_50 --analysis` on Istio's metrics in a real
// Prometheus 3.16, which scrapes every second the test gateway that splits live traffic 50/50
// between a green failing 1% of its requests and a blue failing 6% (5 points more than the 1
// allowed): the stage holds, the gate counts the requests since the change the stage recorded,
// finds blue degraded and performs Rollback, and the cluster's objects say all traffic is on green.
var degradedErrors = regexp.MustCompile(`^mlcanary: Blue_50 held, but blue is degraded: errors: blue [4-8]\.[0-9]{2}% `)

func TestStageAnalysisRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs a real Prometheus and the API server")
	}
	t.Parallel()
	e := shared.Env(t)
	e.StartController(t)
	const ns = "stage-analysis-prometheus"
	backends := map[string]string{}
	for v, fails := range map[string]float64{"green": 0.01, "blue": 0.06} {
		srv := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: v, FailRate: fails}))
		t.Cleanup(srv.Close)
		backends[v] = srv.URL
	}
	gw := gatewaysim.New(gatewaysim.Config{Backends: backends, Weights: summary.Weights{Green: 50, Blue: 50}, Seed: 5,
		Mesh: gatewaysim.Mesh{Namespace: ns}})
	front := httptest.NewServer(gw)
	t.Cleanup(front.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metrics := httptest.NewUnstartedServer(gw.Metrics())
	_ = metrics.Listener.Close()
	metrics.Listener = l
	metrics.Start()
	t.Cleanup(metrics.Close)
	prom := promtest.Run(t, promtest.Options{Targets: []string{l.Addr().String()}, ScrapeInterval: time.Second})

	// About 400 requests per second through the gateway until the test ends, from before the
	// release: Prometheus has the versions' series when the stage's analysis begins, as a live
	// service's would.
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
	for range 4 {
		wg.Go(func() {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for ctx.Err() == nil {
				<-tick.C
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, front.URL+"/score", nil)
				if err != nil {
					return
				}
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}
		})
	}

	stageBlue30(t, e, ns)
	if err := prom.WaitScraped(ctx, l.Addr().String(), time.Now(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	kc := e.Kubeconfig(t)
	start := time.Now()
	code, out, errs := runCLI(t, kc, "stage", "Blue_50", "-n", ns, "--timeout", "60", "--analysis", "--prometheus-url", prom.URL,
		"--window", "1m", "--interval", "1s", "--latency-slo", "10s")
	t.Logf("Blue_50 --analysis took %s", time.Since(start).Round(time.Millisecond))
	last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
	// blue fails 6% of its requests at random, so its measured share is near 6%, not exactly it.
	if code != ExitFailed || !degradedErrors.MatchString(last) ||
		!strings.Contains(last, "rolled back automatically") || !strings.Contains(out, "Analysis: blue against green: degraded") {
		t.Errorf("exit %d, stderr %q\n%s", code, errs, out)
	}
	if stage, w := liveSplit(t, kc, ns); stage != "Rollback" || w != (summary.Weights{Green: 100}) {
		t.Errorf("the cluster is at %s %+v, want Rollback with all traffic on green", stage, w)
	}
}
