package analyze

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
)

// pairedGateway routes /score by x-api-version as the header routes do: blue answers 500 to every
// tenth request when blueFails, and sleeps 300ms on every fifth when blueSlow; green always answers at
// once. Anything else is a 404.
func pairedGateway(t *testing.T, blueFails, blueSlow bool) *httptest.Server {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/score" {
			http.NotFound(w, r)
			return
		}
		switch r.Header.Get("x-api-version") {
		case "blue":
			i := n.Add(1)
			if blueFails && i%10 == 0 {
				http.Error(w, "model error", http.StatusInternalServerError)
				return
			}
			if blueSlow && i%5 == 0 {
				time.Sleep(300 * time.Millisecond)
			}
			_, _ = w.Write([]byte(`"New Model B"`))
		case "green":
			_, _ = w.Write([]byte(`"New Model A"`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestPairedLoad: the gate on paired load, on the real clock against a local gateway: equal
// versions agree, a blue failing 10% of requests is degraded on errors, one answering 20% after
// 300ms is degraded on slow (SLO 200ms), each within a 20s window of 2s looks at 1000 requests per
// second per version.
func TestPairedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: sends paired load for seconds")
	}
	for _, c := range []struct {
		name            string
		fails, slow     bool
		slo             time.Duration
		want            analysis.Verdict
		degradedOnShare string
	}{
		// An SLO far above loopback latency, even on a machine busy with other builds (where 200ms
		// was seen in 3% of requests), so equal versions agree within the window.
		{"equal versions", false, false, 5 * time.Second, analysis.Agrees, ""},
		{"blue fails 10%", true, false, 5 * time.Second, analysis.Degraded, "errors"},
		{"blue slow 20%", false, true, 200 * time.Millisecond, analysis.Degraded, "slow"},
	} {
		gw := pairedGateway(t, c.fails, c.slow)
		p := &Paired{URL: gw.URL + "/score", Header: "x-api-version", Rate: 1000, Concurrency: 20, Timeout: 5 * time.Second,
			Interval: 2 * time.Second, Window: 20 * time.Second, SLO: c.slo}
		o, err := Run(context.Background(), p.Measure, Settings{ChangedAt: time.Now(), Window: 20 * time.Second, Interval: 2 * time.Second,
			MaxErrorIncrease: 0.01, MaxSlowIncrease: 0.01, Confidence: 0.99, Sleep: func(context.Context, time.Duration) error { return nil }})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if o.Decision.Verdict != c.want {
			t.Errorf("%s: %s after %d looks; blue %+v green %+v", c.name, o.Decision.Verdict, o.Looks, o.Measured.Blue, o.Measured.Green)
			continue
		}
		for _, s := range o.Decision.Shares {
			if (s.Verdict == analysis.Degraded) != (s.Name == c.degradedOnShare) {
				t.Errorf("%s: %s is %s", c.name, s.Name, s.Verdict)
			}
		}
		t.Logf("%s: %s after %d looks (blue %d requests, green %d)", c.name, o.Decision.Verdict, o.Looks, o.Measured.Blue.Requests, o.Measured.Green.Requests)
	}
}
