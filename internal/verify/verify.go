// Package verify checks that live traffic matches what the cluster says: every header route answers
// with its own version, and the default route splits between green and blue by the configured
// weights, within a stated tolerance and confidence. It sends real requests through the gateway,
// so it catches what reading the VirtualService cannot (a proxy or mesh that routes differently).
// The core takes the weights and routes as plain values, so it runs without a cluster.
package verify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/loadtest"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Target is what should hold: the default route's weights, the header routes, and the path the
// default route serves.
type Target struct {
	Weights summary.Weights
	Routes  []summary.HeaderRoute
	// Path is the default route's path, e.g. /score.
	Path string
	// Mirror is the percentage of the default route's requests also copied to blue (Shadow_N).
	// The copies' answers are discarded, so clients must get only the weights' answers — what the
	// default route check measures; the copies themselves reach no client and are counted where
	// they arrive, by Options.Copies (mirror.go), when given.
	Mirror int
}

// Options tune how verify measures.
type Options struct {
	// Gateway is the ingress gateway's base URL, e.g. http://20.1.2.3 (a bare host means http).
	Gateway string
	// Answers maps a version to the answer that identifies it; a version missing here is learned
	// by asking it through its header route.
	Answers map[config.Version]string
	// Requests is how many requests the default route gets; 0 picks loadtest.SampleSize.
	Requests int
	// RouteRequests is how many requests each header route gets; 0 picks loadtest.SampleSize.
	RouteRequests int
	// Host, when set, is sent as the Host header, for gateways that serve named hosts only.
	Host string
	// Concurrency and Timeout are per load test; Client, when set, sends every request.
	Concurrency int
	Timeout     time.Duration
	Client      *http.Client
	// Confidence is the joint confidence of each comparison; Tolerance is how far, as a fraction,
	// a share may be from its expectation (0.05 is 5 points).
	Confidence, Tolerance float64
	// MaxErrorShare is the largest fraction of failed requests a check accepts.
	MaxErrorShare float64
	// Copies counts what each version's pods answered, to measure a mirror's copies (mirror.go);
	// nil leaves a mirror unmeasured, and the report says so.
	Copies Copies
}

// Verify measures the gateway against t. The returned Report says whether traffic matches; an error
// means the measurement could not be made at all.
func Verify(ctx context.Context, t Target, o Options) (*Report, error) {
	base := BaseURL(o.Gateway)
	if o.Client == nil {
		o.Client = loadtest.NewClient(o.Concurrency, o.Timeout)
	}
	r := &Report{Gateway: config.RedactedURL(base), Weights: t.Weights, Mirror: t.Mirror, Confidence: o.Confidence, Tolerance: o.Tolerance, Answers: map[string]Answer{}}
	for v, a := range o.Answers {
		r.Answers[string(v)] = Answer{Text: a}
	}
	if t.Mirror > 0 {
		mc, err := checkMirror(ctx, base+t.Path, t, o)
		if err != nil {
			return nil, err
		}
		r.MirrorCheck = mc
		if mc.Problem != "" {
			r.Problems = append(r.Problems, mc.Problem)
		}
	}
	for _, rt := range t.Routes {
		rc, err := checkRoute(ctx, base, rt, o, r.Answers)
		if err != nil {
			return nil, err
		}
		r.Routes = append(r.Routes, rc)
		r.Problems = append(r.Problems, rc.Problems...)
	}
	problems := distinctAnswers(r.Answers)
	want, unknown := expectations(t.Weights, r.Answers)
	problems = append(problems, unknown...)
	r.Problems = append(r.Problems, problems...)
	if len(problems) == 0 && ctx.Err() == nil { // the split is only measurable with distinct, known answers
		dc, err := checkDefault(ctx, base+t.Path, want, o)
		if err != nil {
			return nil, err
		}
		r.Default = &dc
		r.Problems = append(r.Problems, dc.Problems...)
	}
	if ctx.Err() != nil {
		r.Problems = append(r.Problems, "interrupted before every check finished")
	}
	r.Passed = len(r.Problems) == 0
	return r, nil
}

// BaseURL turns a gateway address into a base URL without a trailing slash; "20.1.2.3" becomes
// "http://20.1.2.3", as the documented curl $GATEWAY_IP/score treats it.
func BaseURL(gateway string) string {
	g := strings.TrimRight(strings.TrimSpace(gateway), "/")
	if !strings.Contains(g, "://") {
		g = "http://" + g
	}
	return g
}

// measure runs one load test against url with header and compares its answers with want.
func measure(ctx context.Context, url string, header http.Header, n int, want []loadtest.Expectation, o Options) (Measurement, error) {
	if o.Host != "" {
		header = header.Clone()
		if header == nil {
			header = http.Header{}
		}
		header.Set("Host", o.Host)
	}
	if n <= 0 {
		shares := make([]float64, len(want))
		for i, w := range want {
			shares[i] = w.Share
		}
		n = loadtest.SampleSize(shares, o.Confidence, o.Tolerance)
	}
	t, err := loadtest.Run(ctx, loadtest.Options{
		URL: url, Header: header, Requests: n, Concurrency: o.Concurrency, Timeout: o.Timeout, Client: o.Client,
	})
	if err != nil {
		return Measurement{}, fmt.Errorf("measuring %s: %w", config.RedactedURL(url), err)
	}
	m := Measurement{URL: url, Tally: loadtest.NewReport(url, t, nil), tally: t}
	if want != nil {
		c := loadtest.Compare(t, want, o.Confidence, o.Tolerance)
		m.Comparison = &c
	}
	return m, nil
}

// problemsOf turns a measurement's failures into sentences that name what was measured.
func problemsOf(what string, m Measurement, o Options) []string {
	var out []string
	tr := m.Tally
	if tr.Completed > 0 && float64(tr.Failed)/float64(tr.Completed) > o.MaxErrorShare {
		out = append(out, fmt.Sprintf("%s: %d of %d requests failed (%s), more than the %.1f%% allowed",
			what, tr.Failed, tr.Completed, errorKinds(tr), 100*o.MaxErrorShare))
	}
	if tr.Answered == 0 {
		return append(out, fmt.Sprintf("%s: no successful answer", what))
	}
	c := m.Comparison
	if c == nil {
		return out
	}
	for _, ch := range c.Checks {
		if ch.Verdict == loadtest.Disagree {
			out = append(out, what+": "+ch.Describe())
		}
	}
	if c.Verdict == loadtest.Undecided {
		out = append(out, fmt.Sprintf("%s: too few answers to decide (%d); about %d are needed (-n)", what, c.N, c.Needed))
	}
	return out
}

func errorKinds(r loadtest.Report) string {
	var parts []string
	for _, e := range r.Errors {
		parts = append(parts, fmt.Sprintf("%s ×%d", e.Label(), e.Count))
	}
	return strings.Join(parts, ", ")
}
