package gatewaysim

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/summary"
)

// blueRecorder is a blue backend that records what reaches it and answers slowly and badly: a
// mirror's copy must not delay or change the client's answer.
type blueRecorder struct {
	mu     sync.Mutex
	bodies []string
	hosts  []string
	delay  time.Duration
}

func (b *blueRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.bodies, b.hosts = append(b.bodies, string(body)), append(b.hosts, r.Host)
	b.mu.Unlock()
	time.Sleep(b.delay)
	http.Error(w, "blue is broken", http.StatusInternalServerError)
}

// TestMirror: with Mirror N, about N% of the default route's requests are copied to blue — the
// same body and Host (no "-shadow") — fire and forget: the client gets green's answer, as fast as
// green gives it, whatever blue does; requests a header route takes are never copied.
func TestMirror(t *testing.T) {
	for _, share := range []int{10, 50, 100} {
		green := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, "green")
		}))
		rec := &blueRecorder{delay: 50 * time.Millisecond}
		blue := httptest.NewServer(rec)
		p := New(Config{Backends: map[string]string{"green": green.URL, "blue": blue.URL}, Weights: summary.Weights{Green: 100},
			Routes: routes, Seed: 7, Mirror: share})
		gw := httptest.NewServer(p)
		const n = 400
		start := time.Now()
		for i := range n {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, gw.URL+"/score", strings.NewReader(`{"x":`+string(rune('0'+i%10))+`}`))
			req.Host = "model.example.com"
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if string(b) != "green" || resp.StatusCode != http.StatusOK {
				t.Fatalf("Mirror %d: client got %d %q, want green's answer only", share, resp.StatusCode, b)
			}
		}
		if d := time.Since(start); d > n*rec.delay/4 {
			t.Errorf("Mirror %d: %d requests took %s: the client waited for blue's copies", share, n, d)
		}
		for range 50 { // header routes are not mirrored
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, gw.URL+"/score", nil)
			req.Header.Set("x-api-version", "green")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
		sent, answered := p.Mirrored()
		// Binomial: the count is within 4 standard deviations of n·share (a false alarm ~1 in 10^4).
		want, sd := float64(n*share)/100, math.Sqrt(float64(n)*float64(share)/100*(1-float64(share)/100))
		if math.Abs(float64(sent)-want) > 4*sd || answered != sent {
			t.Errorf("Mirror %d: %d copies sent (%d answered) of %d requests, want about %.0f ± %.0f, all answered", share, sent, answered, n, want, 4*sd)
		}
		metrics := httptest.NewRecorder()
		p.Metrics().ServeHTTP(metrics, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		blueLine := `istio_requests_total{connection_security_policy="mutual_tls",destination_app="model",destination_service="model-svc-blue.abtesting.svc.cluster.local",destination_service_name="model-svc-blue",destination_service_namespace="abtesting",destination_version="latest",destination_workload="model-blue",destination_workload_namespace="abtesting",reporter="destination",request_protocol="http",response_code="500",response_flags="-",source_app="istio-ingressgateway",source_workload="istio-ingressgateway",source_workload_namespace="istio-system"} ` + strconv.FormatInt(answered, 10)
		if !strings.Contains(metrics.Body.String(), blueLine) || strings.Contains(metrics.Body.String(), `destination_workload="model-blue",destination_workload_namespace="abtesting",reporter="source"`) {
			t.Errorf("Mirror %d: the metrics do not report the %d copies as blue's sidecar does, and only so:\n%s", share, answered, grepLines(metrics.Body.String(), "model-blue"))
		}
		rec.mu.Lock()
		if int64(len(rec.bodies)) != sent {
			t.Errorf("Mirror %d: blue received %d requests, %d copies sent: a header route was mirrored", share, len(rec.bodies), sent)
		}
		for i, h := range rec.hosts {
			if h != "model.example.com" || !strings.HasPrefix(rec.bodies[i], `{"x":`) {
				t.Errorf("Mirror %d: copy %d reached blue with Host %q and body %q, want the client's", share, i, h, rec.bodies[i])
				break
			}
		}
		rec.mu.Unlock()
		gw.Close()
		green.Close()
		blue.Close()
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
