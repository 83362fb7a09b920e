package compare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/loadtest"
)

// Options describe one comparison; Inputs.Options builds them from the command's flags.
type Options struct {
	// Gateway is the gateway's base URL, e.g. http://20.1.2.3; a request's path is added to it.
	Gateway string
	// Path is the path of a request whose line gives none, e.g. /score.
	Path string
	// Host, when set, is sent as the Host header (a gateway serving named hosts routes on it).
	Host string
	// Header is the routing header: the value blue or green reaches that version's header route.
	Header string
	// Concurrency is how many requests (lines) are in flight at once; each line's two requests are
	// sent at the same time, so each version has up to Concurrency requests in flight.
	Concurrency int
	// Rate caps the lines started per second (each sent to both versions); 0 is as fast as answered.
	Rate float64
	// Timeout bounds each request, reading its answer included.
	Timeout time.Duration
	// Fields selects what is compared (nil: the whole answer).
	Fields []Path
	// Tolerance is how far numbers may be apart and still agree.
	Tolerance Tolerance
	// ShiftField is the canonical path (Path.Canonical) of the numeric output whose distributions
	// are compared; "" picks the first numeric field both versions answered.
	ShiftField string
	// Top is how many of the most divergent requests the report shows.
	Top int
	// MaxDisagreement is the largest share of disagreeing requests (0 to 1) that still agrees;
	// Confidence is the decision's (0.5 to 1).
	MaxDisagreement, Confidence float64
	// Client sends the requests; nil means loadtest.NewClient(2·Concurrency, Timeout).
	Client *http.Client
	// RoutesKnown says the live VirtualService was read (Live: from the cluster, for the CLI with a
	// namespace and after a stage); Run then reads the requests once first and sends nothing unless
	// every line's copy for each version reaches that version's own Service (Live.check). Without it
	// an agreement whose pairs are all byte for byte identical is undecided: that is also what green
	// answering both copies looks like.
	RoutesKnown bool
	Live        *Live
}

// MaxAnswerBytes bounds the answer read from each version: 16 MiB, room for a batch of a thousand
// 1536-float embeddings; a longer answer is invalid as InvalidTooLarge (never called non-JSON). With
// DecodeBudget it keeps memory within MemoryBound(Concurrency) however the models answer.
const MaxAnswerBytes = 16 << 20

// Run sends every request read from requests to both versions through their header routes, the two
// copies of a line at the same moment and the lines interleaved as they come, and compares the
// answers into a Report. Cancelling ctx (Ctrl-C) stops it promptly: the pairs answered so far are
// reported, with Interrupted set. An error means the comparison could not go on: the known routes
// cannot reach both versions (Live), or a line became unreadable since Prepare read it.
func Run(ctx context.Context, requests io.Reader, name string, o Options) (*Report, error) {
	if o.RoutesKnown {
		if o.Live == nil {
			return nil, errors.New("compare: the live VirtualService was not read")
		}
		if err := checkRoutes(requests, name, o); err != nil {
			return nil, err
		}
	}
	if o.Client == nil {
		o.Client = loadtest.NewClient(2*max(o.Concurrency, 1), o.Timeout)
	}
	names := make([]string, max(len(o.Fields), 1))
	names[0] = "$"
	for i, f := range o.Fields {
		names[i] = f.Canonical()
	}
	r := &runner{o: o, names: names, t: newTally(o.Top, o.ShiftField), decoding: semaphore.NewWeighted(DecodeBudget)}
	jobs := make(chan Request, 2*max(o.Concurrency, 1))
	start := time.Now()
	var readErr error
	go func() {
		defer close(jobs)
		readErr = r.feed(ctx, NewReader(requests, name), jobs, start)
	}()
	var wg sync.WaitGroup
	for range max(o.Concurrency, 1) {
		wg.Go(func() {
			for req := range jobs {
				r.one(ctx, req)
			}
		})
	}
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	return newReport(r.t, o, time.Since(start), ctx.Err() != nil), nil
}

type runner struct {
	o     Options
	names []string
	mu    sync.Mutex
	t     *Tally
	// decoding bounds the answers being decoded and compared at once, in bytes (DecodeBudget).
	decoding *semaphore.Weighted
}

// after is when line i (0-based) may start at rate lines per second: i/rate, at most Go's longest
// duration (about 292 years), so a tiny rate still waits rather than overflowing into the past.
func after(i int, rate float64) time.Duration {
	d := float64(i) / rate * float64(time.Second)
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// feed reads the requests and hands them to the workers, at most o.Rate lines per second.
func (r *runner) feed(ctx context.Context, rd *Reader, jobs chan<- Request, start time.Time) error {
	var timer *time.Timer
	for i := 0; ; i++ {
		req, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.o.Rate > 0 && !loadtest.SleepUntil(ctx, &timer, start.Add(after(i, r.o.Rate))) {
			return nil
		}
		select {
		case jobs <- req:
		case <-ctx.Done():
			return nil
		}
	}
}

// answer is what one version said to one request.
type answer struct {
	body     []byte
	parsed   parsed
	latency  time.Duration // -1: no HTTP answer
	canceled bool
	decode   bool // a 2xx answer of at most MaxAnswerBytes, still to be decoded (parseAnswer)
}

// one sends req to both versions at once, compares the answers and records them. A pair with a
// request abandoned because the run was stopped is not recorded.
func (r *runner) one(ctx context.Context, req Request) {
	var a [2]answer
	versions := [2]string{string(config.Green), string(config.Blue)}
	first := req.Line % 2 // interleaved: each version goes first on every other line
	done := make(chan struct{})
	go func() {
		a[1-first] = r.send(ctx, req, versions[1-first])
		close(done)
	}()
	a[first] = r.send(ctx, req, versions[first])
	<-done
	if a[0].canceled || a[1].canceled {
		return
	}
	// Decoding costs several times an answer's bytes (a value per JSON element): the pairs being
	// decoded and compared at once hold at most DecodeBudget bytes of answers, so large answers are
	// decoded one pair at a time while small ones never wait.
	weight := int64(0)
	for i := range a {
		if a[i].decode {
			weight += int64(len(a[i].body))
		}
	}
	weight = min(weight, DecodeBudget)
	if err := r.decoding.Acquire(ctx, weight); err != nil {
		return // stopped: the pair is abandoned like one in flight
	}
	defer r.decoding.Release(weight)
	for i := range a {
		if a[i].decode {
			a[i].parsed = parseAnswer(a[i].body, r.o.Fields)
		}
	}
	p := &pair{line: req.Line, green: a[0].parsed, blue: a[1].parsed, latency: [2]time.Duration{a[0].latency, a[1].latency},
		greenRaw: a[0].body, blueRaw: a[1].body, header: req.Header}
	if _, own := p.header[http.CanonicalHeaderKey(r.o.Header)]; own { // never sent: the routing header is set over it
		p.header = p.header.Clone()
		p.header.Del(r.o.Header)
	}
	p.compared = p.green.invalid == ""
	switch {
	case !p.compared:
	case p.blue.invalid != "":
		p.invalidReason = "blue's answer is invalid: " + p.blue.invalid
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.compared && p.blue.invalid == "" {
		// Each pair of numbers goes straight to the tally's statistics (no list of a million pairs).
		p.diff = compareValues(p.green.values, p.blue.values, r.names, r.o.Tolerance, r.t.number)
		p.agreed = p.diff.agree
	}
	p.green.values, p.blue.values = nil, nil
	r.t.record(p)
}

// request is the HTTP request compare sends for req to version: a POST of its body to its path
// (else Options.Path) on the gateway, with the line's headers, a JSON Content-Type unless the line
// gives one, of its Accept-Encoding only the codings compare decodes, the routing header set to
// version over any the line has, and Options.Host as Host. The route check (Live) judges this very
// request.
func (o *Options) request(ctx context.Context, req Request, version string) (*http.Request, error) {
	path := req.Path
	if path == "" {
		path = o.Path
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, o.Gateway+path, bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if ae := acceptable(hr.Header.Values("Accept-Encoding")); ae != nil {
		hr.Header["Accept-Encoding"] = ae
	} else {
		hr.Header.Del("Accept-Encoding")
	}
	if hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set(o.Header, version)
	if o.Host != "" {
		hr.Host = o.Host
	}
	return hr, nil
}

// send posts req to version through its header route and reads the answer.
func (r *runner) send(ctx context.Context, req Request, version string) answer {
	hr, err := r.o.request(ctx, req, version)
	if err != nil {
		return answer{body: []byte(err.Error()), parsed: parsed{invalid: InvalidConnection}, latency: -1}
	}
	t0 := time.Now()
	resp, err := r.o.Client.Do(hr)
	if err != nil {
		return failed(ctx, err)
	}
	var body []byte
	rd, encErr := decoded(resp)
	if encErr == nil {
		body, err = io.ReadAll(io.LimitReader(rd, MaxAnswerBytes+1))
		if err != nil && ctx.Err() == nil && !isTimeout(err) && len(resp.Header.Values("Content-Encoding")) > 0 {
			encErr, err = fmt.Errorf("in a Content-Encoding %s that does not decode: %w", resp.Header.Get("Content-Encoding"), err), nil
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body) // so the connection is reused
	_ = resp.Body.Close()
	if err != nil {
		return failed(ctx, err)
	}
	a := answer{body: bytes.TrimSpace(body), latency: time.Since(t0)}
	switch {
	case encErr != nil && (resp.StatusCode < 200 || resp.StatusCode > 299):
		a.parsed.invalid = InvalidStatus
		a.body = fmt.Appendf(nil, "HTTP %d, an answer %s", resp.StatusCode, encErr)
	case encErr != nil:
		a.parsed.invalid = InvalidEncoding
		a.body = []byte("an answer " + encErr.Error())
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		a.parsed.invalid = InvalidStatus
		a.body = fmt.Appendf(nil, "HTTP %d: %s", resp.StatusCode, a.body)
	case len(body) > MaxAnswerBytes:
		a.parsed.invalid = InvalidTooLarge
	default:
		a.decode = true // by one, within the decoding budget
	}
	return a
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// failed is the answer of a request without an HTTP answer: canceled when the run was stopped.
func failed(ctx context.Context, err error) answer {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return answer{canceled: true}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return answer{body: []byte(InvalidTimeout), parsed: parsed{invalid: InvalidTimeout}, latency: -1}
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 { // the cause, without the URL the client repeats
		msg = msg[i+2:]
	}
	return answer{body: []byte(InvalidConnection + ": " + msg), parsed: parsed{invalid: InvalidConnection}, latency: -1}
}

// DecodeBudget bounds the bytes of answers being decoded and compared at once: one pair of the
// largest answers (2·MaxAnswerBytes). Decoded, an answer takes several times its bytes (measured: a
// million-float batch of 11 MB, about 60 MB as values), so without it every line in flight would
// hold its two answers decoded at once.
const DecodeBudget = 2 * MaxAnswerBytes

// MemoryBound is the most heap, in bytes, compare's answers take at concurrency c: the answers read
// (2·c·MaxAnswerBytes), plus the pairs being decoded within DecodeBudget, at most decodedFactor
// times their bytes, and the garbage a collection leaves until the next one (Go's GOGC=100 lets the
// heap grow to twice what is live). TestMemoryOfLargeAnswers measures it.
func MemoryBound(c int) int64 {
	return 2 * (int64(2*max(c, 1)*MaxAnswerBytes) + decodedFactor*DecodeBudget)
}

// decodedFactor is how many times its bytes a decoded answer takes at most, as measured with a batch
// of a million floats (the densest answer: one value per 11 bytes).
const decodedFactor = 6
