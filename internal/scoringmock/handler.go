// Package scoringmock is the scoring mockup: an HTTP server that answers /score with a fixed JSON string
// ("New Model A" by default), like the documented demo images, plus a health endpoint and, like
// Azure ML's inference server, a readiness answer on "/" once its (pretend) model is loaded. Its
// failure rate, latency and model load time are configurable so that traffic gates, load tests and
// readiness probes can be exercised without a real model. In model mode (Options.Model) /score
// answers a deterministic linear model of the request's numbers instead, so two versions can be made
// to agree, differ slightly, flip labels or answer NaN, and compare can be tested on them.
package scoringmock

import (
	"encoding/json"
	"fmt"
	"io"
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
	// ReadyAfter is how long the model takes to load, counted from Handler: until then "/" answers
	// 503 (what a readiness probe sees while a real model loads) and so does /score; from then on
	// "/" answers 200. 0 is ready at once.
	ReadyAfter time.Duration
	// Model, when set, answers /score with a deterministic model of the request's body instead of
	// Answer (serve-model --weights).
	Model *Model
	// Now is the clock ReadyAfter is measured on (time.Now when nil); tests pass their own.
	Now func() time.Time
}

// Paths the mockup serves. ReadyPath is what Azure ML's inference server answers 200 on once the
// model is loaded, and the path of the readiness probe mlcanary adds by default (--readiness-path).
const (
	ScorePath  = "/score"
	HealthPath = "/healthz"
	ReadyPath  = "/"
)

// Handler serves /score, /healthz and "/" (exactly; other paths are 404) with opts. /healthz
// answers ok at once (the process is up: a liveness answer); "/" and /score answer 503 until
// opts.ReadyAfter has passed since Handler was called.
func Handler(opts Options) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	loaded := opts.Now().Add(opts.ReadyAfter)
	ready := func() bool { return !opts.Now().Before(loaded) }
	body, err := json.Marshal(opts.Answer)
	if err != nil { // a Go string always marshals
		panic(err)
	}
	s := &scorer{opts: opts, body: append(body, '\n'), ready: ready}
	if s.opts.FailStatus == 0 {
		s.opts.FailStatus = http.StatusInternalServerError
	}
	mux := http.NewServeMux()
	mux.Handle(ScorePath, s)
	mux.HandleFunc(HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET "+ReadyPath+"{$}", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, loadingMessage, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintln(w, "Healthy")
	})
	return mux
}

// loadingMessage is the 503's body while the model loads.
const loadingMessage = "model is loading"

// scorer answers /score.
type scorer struct {
	opts  Options
	body  []byte
	ready func() bool
	n     atomic.Uint64
}

// ServeHTTP answers GET and POST with the fixed answer, after the latency, unless this request is
// one of the injected failures.
func (s *scorer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed: use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	if !s.ready() {
		http.Error(w, loadingMessage, http.StatusServiceUnavailable)
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
	body := s.body
	if m := s.opts.Model; m != nil {
		in, err := io.ReadAll(io.LimitReader(r.Body, maxModelInput+1))
		if err == nil && len(in) > maxModelInput {
			err = fmt.Errorf("the body is over %d bytes", maxModelInput)
		}
		if err == nil {
			body, err = m.answer(in)
		}
		if err != nil {
			http.Error(w, "bad input: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body) // a client that hung up has nothing to be told
}

// maxModelInput bounds the body the model mode reads.
const maxModelInput = 1 << 20

// fail reports whether this request is one of the injected failures: request n (1-based) fails
// when floor(n·rate) grows, which spreads exactly rate of the requests evenly.
func (s *scorer) fail() bool {
	if s.opts.FailRate <= 0 {
		return false
	}
	n := s.n.Add(1)
	return uint64(float64(n)*s.opts.FailRate) > uint64(float64(n-1)*s.opts.FailRate)
}
