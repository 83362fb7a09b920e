package analyze

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/loadtest"
)

// Paired is the paired-load source (--source loadtest): no metrics backend; at each look it sends
// requests through the gateway to both versions' header routes at once, at the same rate, for one
// interval, and counts each version's answers itself. The same request mix at the same time makes
// the comparison fair, and the counts accumulate over the looks (the window grows, nested).
type Paired struct {
	// URL is the scoring route through the gateway, e.g. http://20.1.2.3/score; Host, when set, is
	// sent as the Host header.
	URL, Host string
	// Header is the routing header whose value blue or green reaches that version.
	Header string
	// Method is GET or POST (GET when empty); Body, when set, is sent with every request, with
	// Content-Type application/json when it is JSON: the model's real scoring request.
	Method string
	Body   []byte
	// Rate is requests per second to each version; Concurrency bounds each version's requests in
	// flight; Timeout bounds each request.
	Rate        float64
	Concurrency int
	Timeout     time.Duration
	// Interval is how long each look sends for; Window is the length of the window from its start,
	// past which no look sends.
	Interval, Window time.Duration
	// SLO: a request answered after it is slow (measured exactly, no histogram).
	SLO time.Duration
	// Client sends the requests (nil: a loadtest.NewClient made at the first look, then kept for
	// every look, so the looks reuse its connections).
	Client *http.Client

	mu     sync.Mutex
	counts map[string]*istioprom.Measurement
	// notModel counts each version's answers that are not the model's (4xx: no route, a method or
	// body the server refuses); model its answers that are (2xx, 3xx, 5xx).
	notModel, model map[string]int64
	lastCode        map[string]string
}

// Measure sends one interval of paired load (less when the window ends sooner) and returns every
// look's counts so far. A request is an error when it got a 4xx or 5xx or no answer (timeout,
// connection refused or reset): both versions get the same requests, so a 4xx one version gives and
// the other does not is that version's failure; a request with any HTTP answer is timed, and slow
// when it took over SLO. A version whose every answer is a 4xx fails the look (reachedModel).
func (p *Paired) Measure(ctx context.Context, start, end time.Time) (istioprom.Result, error) {
	p.mu.Lock()
	if p.counts == nil {
		p.counts = map[string]*istioprom.Measurement{"blue": {Version: "blue"}, "green": {Version: "green"}}
		p.notModel, p.model, p.lastCode = map[string]int64{}, map[string]int64{}, map[string]string{}
	}
	if p.Client == nil { // one client for every look: its connections are reused, not opened anew
		p.Client = loadtest.NewClient(2*max(p.Concurrency, 1), p.Timeout)
	}
	client := p.Client
	p.mu.Unlock()
	d := p.Interval
	if left := start.Add(p.Window).Sub(end); left < d {
		d = left
	}
	var queries []istioprom.Query
	if d > 0 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, v := range []string{"blue", "green"} {
			h := http.Header{}
			h.Set(p.Header, v)
			if json.Valid(p.Body) {
				h.Set("Content-Type", "application/json")
			}
			if p.Host != "" {
				h.Set("Host", p.Host)
			}
			queries = append(queries, istioprom.Query{What: v + " requests",
				PromQL: fmt.Sprintf("%s %s with %s: %s, %g/s for %s", p.method(), p.URL, p.Header, v, p.Rate, d), Time: end})
			wg.Go(func() {
				_, errs[i] = loadtest.Run(ctx, loadtest.Options{URL: p.URL, Method: p.method(), Body: p.Body, Header: h, Duration: d, Concurrency: p.Concurrency,
					Rate: p.Rate, Timeout: p.Timeout, Client: client, OnResult: p.count(v)})
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return istioprom.Result{}, fmt.Errorf("sending paired load to %s: %w", istioprom.Redact(p.URL), err)
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.reachedModel(); err != nil {
		return istioprom.Result{}, err
	}
	return istioprom.Result{Blue: *p.counts["blue"], Green: *p.counts["green"], Start: start, End: time.Now(),
		Endpoint: istioprom.Redact(p.URL), BoundaryMs: float64(p.SLO) / float64(time.Millisecond), Queries: queries}, nil
}

// count records one answer of version v.
func (p *Paired) count(v string) func(loadtest.Result) {
	return func(r loadtest.Result) {
		p.mu.Lock()
		defer p.mu.Unlock()
		m := p.counts[v]
		m.Requests++
		answered := r.Err == "" || strings.HasPrefix(r.Err, loadtest.KindStatus+" ")
		if code, ok := strings.CutPrefix(r.Err, loadtest.KindStatus+" 4"); ok {
			p.notModel[v]++
			p.lastCode[v] = "4" + code
		} else if answered {
			p.model[v]++
		}
		// Both versions get the same requests, so a 4xx (a 429 of an overloaded model server, a 422 it
		// gives only some inputs) is the version's failure to answer them, as a 5xx is.
		if (r.Err != "" && !answered) || strings.HasPrefix(r.Err, loadtest.KindStatus+" 5") ||
			strings.HasPrefix(r.Err, loadtest.KindStatus+" 4") {
			m.Errors++
		}
		if answered {
			m.Timed++
			if r.Latency > p.SLO {
				m.Slow++
			}
		}
	}
}

// method is the request method, GET when none was given.
func (p *Paired) method() string {
	if p.Method == "" {
		return http.MethodGet
	}
	return strings.ToUpper(p.Method)
}

// reachedModel fails when a version's requests got answers, all of them 4xx: answers a gateway or
// web server gives before any model ran (404 nothing routed, 405 the wrong method, 415/422 the wrong
// body), which would otherwise count as good ones and let a broken blue agree. One sentence naming
// the version, the answer and what to check; waiting fixes none of it.
func (p *Paired) reachedModel() error {
	for _, v := range []string{"blue", "green"} {
		if p.notModel[v] > 0 && p.model[v] == 0 {
			return fmt.Errorf("every answer to %s's %d requests (%s %s with %s: %s) was a 4xx (%s), which is the gateway's or the server's, not the model's: "+
				"no request reached %s's model, so nothing can be judged; check the method and body sent (method, data: the model's real scoring request), "+
				"the gateway's address, and the URI prefix and hosts the routes match",
				v, p.counts[v].Requests, p.method(), istioprom.Redact(p.URL), p.Header, v, p.lastCode[v], v)
		}
	}
	return nil
}
