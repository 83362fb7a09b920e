package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/scoringmock"
)

// outcome is the comparable part of a tally.
type outcome struct {
	Answers  map[string]int
	Errors   map[string]int
	Canceled int
}

func outcomeOf(t *Tally) outcome {
	o := outcome{Answers: map[string]int{}, Errors: map[string]int{}, Canceled: t.Canceled}
	for _, a := range t.Answers {
		o.Answers[a.Answer] = a.Count
	}
	for _, e := range t.Errors {
		o.Errors[e.Label()] = e.Count
	}
	return o
}

func scoring(t *testing.T, opts scoringmock.Options) string {
	t.Helper()
	srv := httptest.NewServer(scoringmock.Handler(opts))
	t.Cleanup(srv.Close)
	return srv.URL + scoringmock.ScorePath
}

// refusedURL returns a loopback URL where nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr + scoringmock.ScorePath
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  func(t *testing.T) string
		opts Options
		want outcome
	}{
		{"all answered", func(t *testing.T) string { return scoring(t, scoringmock.Options{Answer: "New Model A"}) },
			Options{Requests: 300, Concurrency: 8},
			outcome{Answers: map[string]int{"New Model A": 300}, Errors: map[string]int{}}},
		{"POST with a body", func(t *testing.T) string { return scoring(t, scoringmock.Options{Answer: "New Model B"}) },
			Options{Method: http.MethodPost, Body: []byte(`{"data":[1,2]}`), Requests: 20, Concurrency: 2},
			outcome{Answers: map[string]int{"New Model B": 20}, Errors: map[string]int{}}},
		{"a quarter fail with 503", func(t *testing.T) string {
			return scoring(t, scoringmock.Options{Answer: "New Model A", FailRate: 0.25, FailStatus: 503})
		}, Options{Requests: 200, Concurrency: 4},
			outcome{Answers: map[string]int{"New Model A": 150}, Errors: map[string]int{"status 503": 50}}},
		{"timeouts", func(t *testing.T) string {
			return scoring(t, scoringmock.Options{Answer: "A", Latency: 2 * time.Second})
		},
			Options{Requests: 6, Concurrency: 3, Timeout: 50 * time.Millisecond},
			outcome{Answers: map[string]int{}, Errors: map[string]int{"timeout": 6}}},
		{"connection refused", refusedURL, Options{Requests: 5, Concurrency: 1},
			outcome{Answers: map[string]int{}, Errors: map[string]int{"connection refused": 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.URL = tc.url(t)
			if tc.opts.Timeout == 0 {
				tc.opts.Timeout = 5 * time.Second
			}
			got, err := Run(t.Context(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, outcomeOf(got)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if got.Interrupted {
				t.Error("Interrupted is set on a run that finished")
			}
		})
	}
}

// TestRunSendsHeaders uses a server that answers with the routing header it received.
func TestRunSendsHeaders(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "%q", r.Header.Get("x-api-version")+" "+r.Host)
	}))
	defer srv.Close()
	h := http.Header{}
	h.Set("x-api-version", "blue")
	h.Set("Host", "model.example")
	got, err := Run(t.Context(), Options{URL: srv.URL, Header: h, Requests: 10, Concurrency: 2, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := outcome{Answers: map[string]int{"blue model.example": 10}, Errors: map[string]int{}}
	if diff := cmp.Diff(want, outcomeOf(got)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// TestRunInterrupted cancels a run that would take far longer and expects a prompt, partial tally.
func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	// Canceled once 20 requests were answered (not after a fixed time, which a loaded machine may
	// spend before the first answer), so the tally is partial and never empty.
	ctx, cancel := context.WithCancel(t.Context())
	model := scoringmock.Handler(scoringmock.Options{Answer: "New Model A", Latency: 20 * time.Millisecond})
	var answered atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		model.ServeHTTP(w, r)
		if answered.Add(1) == 20 {
			cancel()
		}
	}))
	t.Cleanup(srv.Close)
	url := srv.URL + scoringmock.ScorePath
	done := make(chan *Tally, 1)
	go func() {
		tl, err := Run(ctx, Options{URL: url, Requests: 1_000_000, Concurrency: 4, Timeout: 5 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- tl
	}()
	select {
	case got := <-done:
		if !got.Interrupted {
			t.Error("Interrupted is not set")
		}
		if n := got.Answered(); n == 0 || n >= 1_000_000 {
			t.Errorf("%d answers, want a partial count", n)
		}
		if got.Failed() != 0 {
			t.Errorf("%d failures; requests abandoned on cancel must count as canceled, not failed", got.Failed())
		}
		if got.Canceled > 4 {
			t.Errorf("%d canceled, but only 4 can be in flight", got.Canceled)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of cancel")
	}
}

// TestRunPacing checks the rate cap and the duration bound from below, which holds however slow
// the machine is: 10 requests at 50/s cannot finish before the 10th slot at 180ms.
func TestRunPacing(t *testing.T) {
	t.Parallel()
	url := scoring(t, scoringmock.Options{Answer: "A"})
	tl, err := Run(t.Context(), Options{URL: url, Requests: 10, Concurrency: 10, Rate: 50, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if tl.Elapsed < 180*time.Millisecond || tl.Answered() != 10 {
		t.Errorf("rate 50/s: %d answers in %s, want 10 in at least 180ms", tl.Answered(), tl.Elapsed)
	}
	tl, err = Run(t.Context(), Options{URL: url, Duration: 150 * time.Millisecond, Concurrency: 2, Rate: 100, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if tl.Answered() > 15 || tl.Elapsed < 140*time.Millisecond {
		t.Errorf("150ms at 100/s: %d answers in %s, want at most 15 in at least 140ms", tl.Answered(), tl.Elapsed)
	}
}

// TestRunBoundsDistinctAnswers uses a server that never repeats itself: the tally keeps
// MaxAnswers answers and lumps the rest together, so its size does not grow with the requests.
func TestRunBoundsDistinctAnswers(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintf(w, `"answer %d"`, n.Add(1))
	}))
	defer srv.Close()
	const requests = 500
	tl, err := Run(t.Context(), Options{URL: srv.URL, Requests: requests, Concurrency: 4, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Answers) > MaxAnswers+1 || tl.Answered() != requests {
		t.Errorf("%d distinct answers counting %d, want at most %d counting %d",
			len(tl.Answers), tl.Answered(), MaxAnswers+1, requests)
	}
	if tl.Count(OtherAnswers) == 0 {
		t.Errorf("no answers were lumped into %q", OtherAnswers)
	}
}

func TestRunOnResultSeesEveryRequest(t *testing.T) {
	t.Parallel()
	url := scoring(t, scoringmock.Options{Answer: "New Model A", FailRate: 0.5})
	var lines []string
	_, err := Run(t.Context(), Options{URL: url, Requests: 6, Concurrency: 1, Timeout: 5 * time.Second,
		OnResult: func(r Result) { lines = append(lines, r.Raw+r.Err) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"New Model A"`, `status 500`, `"New Model A"`, `status 500`, `"New Model A"`, `status 500`}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestRunRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
	}{
		{"no bound", Options{URL: "http://127.0.0.1:1/score", Concurrency: 1}},
		{"bad URL", Options{URL: "http://[::1", Requests: 1, Concurrency: 1}},
	}
	for _, tc := range tests {
		if _, err := Run(t.Context(), tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
