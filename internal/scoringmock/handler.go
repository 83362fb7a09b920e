// Package scoringmock is the scoring mockup: an HTTP server that answers /score with a fixed JSON string
// ("New Model A" by default), like the documented demo images, plus a health endpoint. Its failure
// rate and latency are configurable so that traffic gates and load tests can be exercised without a
// real model.
package scoringmock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultAnswer is what /score answers unless told otherwise. It is a variable so an image build can
// bake another answer in with -ldflags "-X github.com/mlcanary/mlcanary/internal/scoringmock.DefaultAnswer=New Model B".
var DefaultAnswer = "New Model A"

// Options shape the mockup's behaviour.
type Options struct {
	// Answer is returned by /score as a JSON string.
	Answer string
	// FailRate is the fraction (0..1) of /score requests answered with FailStatus instead. Failures
	// are spread evenly and deterministically: after n requests exactly floor(n·FailRate) failed.
	FailRate float64
	// FailStatus is the status of a failed request (500 when 0).
	FailStatus int
	// Latency delays every /score answer; a client that gives up first ends the wait.
	Latency time.Duration
}

// Paths the mockup serves.
const (
	ScorePath  = "/score"
	HealthPath = "/healthz"
)

// Handler serves /score and /healthz with opts.
func Handler(opts Options) http.Handler {
	body, err := json.Marshal(opts.Answer)
	if err != nil { // a Go string always marshals
		panic(err)
	}
	s := &scorer{opts: opts, body: append(body, '\n')}
	if s.opts.FailStatus == 0 {
		s.opts.FailStatus = http.StatusInternalServerError
	}
	mux := http.NewServeMux()
	mux.Handle(ScorePath, s)
	mux.HandleFunc(HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintln(w, "ok")
	})
	return mux
}

// scorer answers /score.
type scorer struct {
	opts Options
	body []byte
	n    atomic.Uint64
}

// ServeHTTP answers GET and POST with the fixed answer, after the latency, unless this request is
// one of the injected failures.
func (s *scorer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed: use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if s.fail() {
		http.Error(w, "injected failure", s.opts.FailStatus)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.body) // a client that hung up has nothing to be told
}

// fail reports whether this request is one of the injected failures: request n (1-based) fails
// when floor(n·rate) grows, which spreads exactly rate of the requests evenly.
func (s *scorer) fail() bool {
	if s.opts.FailRate <= 0 {
		return false
	}
	n := s.n.Add(1)
	return uint64(float64(n)*s.opts.FailRate) > uint64(float64(n-1)*s.opts.FailRate)
}
