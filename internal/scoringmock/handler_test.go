package scoringmock

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type reply struct {
	Status      int
	ContentType string
	Body        string
}

func do(t *testing.T, c *http.Client, method, url string) reply {
	t.Helper()
	r, err := fetch(t.Context(), c, method, url)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fetch(ctx context.Context, c *http.Client, method, url string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(`{"x":1}`))
	if err != nil {
		return reply{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}, err
}

func TestHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   Options
		method string
		path   string
		want   reply
	}{
		{"get score", Options{Answer: "New Model A"}, http.MethodGet, "/score",
			reply{200, "application/json", "\"New Model A\"\n"}},
		{"post score", Options{Answer: "New Model B"}, http.MethodPost, "/score",
			reply{200, "application/json", "\"New Model B\"\n"}},
		{"answer is JSON-escaped", Options{Answer: `say "hi"`}, http.MethodGet, "/score",
			reply{200, "application/json", "\"say \\\"hi\\\"\"\n"}},
		{"other method", Options{Answer: "A"}, http.MethodPut, "/score",
			reply{405, "text/plain; charset=utf-8", "method not allowed: use GET or POST\n"}},
		{"health", Options{Answer: "A", FailRate: 1}, http.MethodGet, "/healthz",
			reply{200, "text/plain; charset=utf-8", "ok\n"}},
		{"always failing", Options{Answer: "A", FailRate: 1, FailStatus: 503}, http.MethodGet, "/score",
			reply{503, "text/plain; charset=utf-8", "injected failure\n"}},
		{"unknown path", Options{Answer: "A"}, http.MethodGet, "/nope",
			reply{404, "text/plain; charset=utf-8", "404 page not found\n"}},
		{"ready: / answers like Azure ML's inference server", Options{Answer: "A"}, http.MethodGet, "/",
			reply{200, "text/plain; charset=utf-8", "Healthy\n"}},
		{"loading: / answers 503", Options{Answer: "A", ReadyAfter: time.Hour}, http.MethodGet, "/",
			reply{503, "text/plain; charset=utf-8", "model is loading\n"}},
		{"loading: /score answers 503", Options{Answer: "A", ReadyAfter: time.Hour}, http.MethodPost, "/score",
			reply{503, "text/plain; charset=utf-8", "model is loading\n"}},
		{"loading: /healthz (the process is up) answers ok", Options{Answer: "A", ReadyAfter: time.Hour}, http.MethodGet, "/healthz",
			reply{200, "text/plain; charset=utf-8", "ok\n"}},
		{"/ is only the root", Options{Answer: "A"}, http.MethodGet, "/ready",
			reply{404, "text/plain; charset=utf-8", "404 page not found\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(Handler(tc.opts))
			defer srv.Close()
			got := do(t, srv.Client(), tc.method, srv.URL+tc.path)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestFailRateIsExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rate float64
		n    int
		want int
	}{
		{0, 40, 0}, {0.25, 40, 10}, {0.1, 40, 4}, {1, 40, 40}, {1.0 / 3, 30, 10},
	}
	for _, tc := range tests {
		srv := httptest.NewServer(Handler(Options{Answer: "A", FailRate: tc.rate}))
		failed := 0
		for range tc.n {
			if do(t, srv.Client(), http.MethodGet, srv.URL+ScorePath).Status == 500 {
				failed++
			}
		}
		srv.Close()
		if failed != tc.want {
			t.Errorf("rate %g over %d requests: %d failed, want %d", tc.rate, tc.n, failed, tc.want)
		}
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler(Options{Answer: "A", Latency: 80 * time.Millisecond}))
	defer srv.Close()
	start := time.Now()
	if got := do(t, srv.Client(), http.MethodGet, srv.URL+ScorePath).Status; got != 200 {
		t.Fatalf("status %d, want 200", got)
	}
	if took := time.Since(start); took < 80*time.Millisecond {
		t.Errorf("answered after %s, before the configured 80ms latency", took)
	}
	impatient := &http.Client{Timeout: 20 * time.Millisecond}
	_, err := impatient.Get(srv.URL + ScorePath)
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("client with a 20ms timeout got %v, want a timeout", err)
	}
}

// TestServeShutsDownGracefully cancels the context while a slow request is in flight: the request
// still gets its answer, Serve returns nil, and the port stops accepting connections.
func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + ScorePath
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ln, Handler(Options{Answer: "A", Latency: 300 * time.Millisecond}), 5*time.Second)
	}()
	answered := make(chan reply, 1)
	go func() {
		r, err := fetch(t.Context(), &http.Client{Timeout: 5 * time.Second}, http.MethodGet, url)
		if err != nil {
			r.Body = err.Error()
		}
		answered <- r
	}()
	time.Sleep(100 * time.Millisecond) // let the request reach the handler
	cancel()
	if diff := cmp.Diff(reply{200, "application/json", "\"A\"\n"}, <-answered); diff != "" {
		t.Errorf("in-flight request (-want +got)\n%s", diff)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5s of cancel")
	}
	if _, err := (&http.Client{Timeout: time.Second}).Get(url); err == nil {
		t.Error("server still answers after shutdown")
	}
}

// TestReadyAfter: on a real loopback server, a model that takes ReadyAfter to load answers "/" (the
// readiness probe's default path) and /score with 503 until then and 200 from then on, measured on
// the clock the test moves.
func TestReadyAfter(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	srv := httptest.NewServer(Handler(Options{Answer: "New Model B", ReadyAfter: 30 * time.Second, Now: clock}))
	defer srv.Close()
	for _, step := range []struct {
		advance      time.Duration
		ready, score int
	}{
		{0, 503, 503},
		{29*time.Second + 999*time.Millisecond, 503, 503},
		{time.Millisecond, 200, 200},
		{time.Hour, 200, 200},
	} {
		advance(step.advance)
		if got := do(t, srv.Client(), http.MethodGet, srv.URL+ReadyPath).Status; got != step.ready {
			t.Errorf("after %s more: GET / = %d, want %d", step.advance, got, step.ready)
		}
		if got := do(t, srv.Client(), http.MethodPost, srv.URL+ScorePath).Status; got != step.score {
			t.Errorf("after %s more: POST /score = %d, want %d", step.advance, got, step.score)
		}
	}
}
