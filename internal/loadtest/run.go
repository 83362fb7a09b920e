// Package loadtest measures what a scoring endpoint answers: it sends a bounded number of requests
// (or for a bounded time) with a fixed concurrency and optional rate, and tallies each distinct
// answer, each kind of error and the latency in fixed-size structures, so memory stays flat however
// many requests are sent. It replaces the documented load_test.sh curl loop, whose output a person
// had to count, and it checks observed shares against expected weights with a confidence interval.
package loadtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Options describe one load test.
type Options struct {
	// URL is the endpoint, e.g. http://20.0.0.1/score.
	URL string
	// Method is GET (the documented curl) or POST; Body is sent with every request.
	Method string
	Body   []byte
	// Header is added to every request, e.g. x-api-version: blue.
	Header http.Header
	// Requests bounds the number of requests; 0 means unbounded (Duration must then be set).
	Requests int
	// Duration bounds the time spent starting requests; 0 means unbounded.
	Duration time.Duration
	// Concurrency is the number of requests in flight at once (at least 1).
	Concurrency int
	// Rate caps the overall requests per second; 0 sends as fast as the target answers.
	Rate float64
	// Timeout bounds each request, including reading its body.
	Timeout time.Duration
	// Client sends the requests; nil means NewClient(Concurrency, Timeout).
	Client *http.Client
	// OnResult, when set, sees every completed request, one call at a time, e.g. to print it.
	OnResult func(Result)
}

// Result is one completed request, as OnResult sees it.
type Result struct {
	// Raw is the trimmed body of a successful response ("" on error).
	Raw string
	// Err is the failure's label ("status 500", "timeout", ...); "" on success.
	Err     string
	Latency time.Duration
}

// NewClient returns an HTTP client tuned for load: keep-alive connections up to concurrency per
// host and a per-request timeout.
func NewClient(concurrency int, timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = max(concurrency, 1)
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: timeout}
}

// Run sends the requests and returns the tally. Cancelling ctx (Ctrl-C) stops it promptly: requests
// in flight are abandoned and counted as canceled, and the partial tally is returned with
// Interrupted set and no error. An error means the run could not start (bad URL or options).
func Run(ctx context.Context, o Options) (*Tally, error) {
	if o.Requests <= 0 && o.Duration <= 0 {
		return nil, errors.New("a load test needs a request count or a duration")
	}
	base, err := newRequest(o)
	if err != nil {
		return nil, err
	}
	if o.Client == nil {
		o.Client = NewClient(o.Concurrency, o.Timeout)
	}
	r := &runner{o: o, base: base, start: time.Now()}
	r.shards = make([]shard, min(max(o.Concurrency, 1), 4*runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for i := range max(o.Concurrency, 1) {
		wg.Go(func() { r.work(ctx, &r.shards[i%len(r.shards)]) })
	}
	wg.Wait()
	t := &Tally{}
	for i := range r.shards {
		t.Merge(&r.shards[i].t)
	}
	t.Elapsed = time.Since(r.start)
	t.Interrupted = ctx.Err() != nil
	return t, nil
}

func newRequest(o Options) (*http.Request, error) {
	method := o.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, o.URL, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range o.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
	}
	return req, nil
}

// shard is a tally a few workers share; sharding keeps lock contention low without giving every
// worker its own histogram.
type shard struct {
	mu sync.Mutex
	t  Tally
}

type runner struct {
	o      Options
	base   *http.Request
	start  time.Time
	next   atomic.Int64
	report sync.Mutex // serialises OnResult
	shards []shard
}

// work sends requests until the count, the duration or ctx runs out.
func (r *runner) work(ctx context.Context, s *shard) {
	buf := make([]byte, MaxAnswerBytes)
	var timer *time.Timer
	for ctx.Err() == nil {
		i := r.next.Add(1) - 1
		if r.o.Requests > 0 && i >= int64(r.o.Requests) {
			return
		}
		at := time.Since(r.start)
		if r.o.Rate > 0 {
			at = time.Duration(float64(i) / r.o.Rate * float64(time.Second))
		}
		if r.o.Duration > 0 && at >= r.o.Duration {
			return
		}
		if r.o.Rate > 0 && !SleepUntil(ctx, &timer, r.start.Add(at)) {
			return
		}
		r.one(ctx, s, buf)
	}
}

// SleepUntil waits for t or ctx, reusing *timer (nil: one is made); it reports false when ctx
// ended first. It paces requests at a rate (loadtest, compare).
func SleepUntil(ctx context.Context, timer **time.Timer, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	if *timer == nil {
		*timer = time.NewTimer(d)
	} else {
		(*timer).Reset(d)
	}
	select {
	case <-ctx.Done():
		return false
	case <-(*timer).C:
		return true
	}
}

// one sends a single request and records its outcome in s.
func (r *runner) one(ctx context.Context, s *shard, buf []byte) {
	req := r.base.WithContext(ctx)
	if r.o.Body != nil {
		req.Body = io.NopCloser(bytes.NewReader(r.o.Body))
		req.ContentLength = int64(len(r.o.Body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(r.o.Body)), nil }
	}
	t0 := time.Now()
	body, status, err := fetch(r.o.Client, req, buf)
	lat := time.Since(t0)
	s.mu.Lock()
	key, failed, counted := s.t.record(ctx, body, status, err, lat)
	s.mu.Unlock()
	if r.o.OnResult == nil || !counted {
		return
	}
	res := Result{Latency: lat}
	if failed {
		res.Err = key.Label()
	} else {
		res.Raw = string(body)
	}
	r.report.Lock()
	r.o.OnResult(res)
	r.report.Unlock()
}

// record counts one outcome: an answer, or a failure of kind key (failed). It reports
// counted=false for a request abandoned because the run was stopped. Latency is recorded for every
// HTTP response, not for transport failures, whose duration says more about the timeout than about
// the target. Counting an answer or status seen before does not allocate.
func (t *Tally) record(ctx context.Context, body []byte, status int, err error, lat time.Duration) (key ErrorKey, failed, counted bool) {
	if err != nil {
		kind, canceled := classify(ctx, err)
		if canceled {
			t.Canceled++
			return ErrorKey{}, false, false
		}
		key = ErrorKey{Kind: kind}
		t.addError(key, exampleOf(key, err))
		return key, true, true
	}
	t.Latency.Record(lat)
	if status < 200 || status > 299 {
		key = ErrorKey{Kind: KindStatus, Status: status}
		t.addError(key, "")
		return key, true, true
	}
	t.addAnswer(body)
	return ErrorKey{}, false, true
}

// exampleOf keeps the message only for KindOther, where the kind alone does not explain it.
func exampleOf(k ErrorKey, err error) string {
	if k.Kind != KindOther {
		return ""
	}
	return err.Error()
}

// fetch sends req and reads the first len(buf) bytes of the body into buf, draining the rest so
// the connection is reused. It returns the trimmed body and the status.
func fetch(c *http.Client, req *http.Request, buf []byte) ([]byte, int, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = resp.Body.Close() }() // a read error is the one to report
	n, err := io.ReadFull(resp.Body, buf)
	switch {
	case err == nil:
		_, err = io.Copy(io.Discard, resp.Body)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		err = nil
	}
	if err != nil {
		return nil, resp.StatusCode, err
	}
	return bytes.TrimSpace(buf[:n]), resp.StatusCode, nil
}
