package analyze

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestPairedLoadAnswersThatAreNotTheModels: a version whose every answer is a 4xx (its header route
// missing: 404; the wrong method: 405) was never reached, and the look fails in one sentence naming
// the version and the answer, whatever the other version answered; a model that refuses some
// requests (a 422 for one in ten) is judged, its refusals counted as errors (green answered the same
// requests).
func TestPairedLoadAnswersThatAreNotTheModels(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: sends paired load for a second")
	}
	var n atomic.Int64
	for _, c := range []struct {
		name  string
		blue  func(w http.ResponseWriter, r *http.Request)
		fails string // "" judged
	}{
		{"blue's route is missing", http.NotFound, "every answer to blue's"},
		{"blue refuses the method", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusMethodNotAllowed) }, "was a 4xx (405)"},
		{"blue refuses one in ten", func(w http.ResponseWriter, _ *http.Request) {
			if n.Add(1)%10 == 0 {
				http.Error(w, "bad input", http.StatusUnprocessableEntity)
				return
			}
			_, _ = w.Write([]byte(`"B"`))
		}, ""},
	} {
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("x-api-version") == "blue" {
				c.blue(w, r)
				return
			}
			_, _ = w.Write([]byte(`"A"`))
		}))
		p := &Paired{URL: gw.URL + "/score", Header: "x-api-version", Rate: 200, Concurrency: 5, Timeout: 5 * time.Second,
			Interval: time.Second, Window: time.Minute, SLO: 5 * time.Second}
		res, err := p.Measure(context.Background(), time.Now(), time.Now())
		gw.Close()
		switch {
		case c.fails != "" && (err == nil || !strings.Contains(err.Error(), c.fails) || !strings.Contains(err.Error(), "not the model's")):
			t.Errorf("%s: %v, want %q", c.name, err, c.fails)
		case c.fails == "" && (err != nil || res.Blue.Requests == 0 || res.Blue.Errors < res.Blue.Requests/20 || res.Green.Errors != 0):
			t.Errorf("%s: %v, blue %+v, green %+v; want blue's 422s (one in ten) counted as errors", c.name, err, res.Blue, res.Green)
		}
	}
}

// TestPairedLoadRefusalsAreErrors (found by the second #10 break-it review, E5): blue answers 429 Too
// Many Requests to one request in three (an overloaded model server's back-pressure, or a rate limit
// on blue's route) and 200 to the rest, green 200 to every one of the same POSTs. A third of blue's
// real clients would fail: its 429s are errors, and blue is degraded on errors, never agreeing.
func TestPairedLoadRefusalsAreErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: sends paired load for seconds")
	}
	var n atomic.Int64
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-version") == "blue" && n.Add(1)%3 == 0 {
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{"score":0.5}`))
	}))
	defer gw.Close()
	p := &Paired{URL: gw.URL + "/score", Method: "POST", Body: []byte(`{"x":1}`), Header: "x-api-version", Rate: 300, Concurrency: 10,
		Timeout: 5 * time.Second, Interval: time.Second, Window: 6 * time.Second, SLO: 5 * time.Second}
	o, err := Run(context.Background(), p.Measure, Settings{ChangedAt: time.Now(), Window: 6 * time.Second, Interval: time.Second,
		MaxErrorIncrease: 0.01, MaxSlowIncrease: 0.01, Confidence: 0.99, Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil || o.Decision.Verdict != analysis.Degraded || o.Decision.Shares[0].Name != "errors" || o.Decision.Shares[0].Verdict != analysis.Degraded {
		t.Fatalf("blue refusing a third of the scoring requests with 429: %s after %d looks, err %v: blue %+v, green %+v",
			o.Decision.Verdict, o.Looks, err, o.Measured.Blue, o.Measured.Green)
	}
	t.Logf("degraded after %d looks: %s", o.Looks, o.Decision.Shares[0].Reason())
}
