package istioprom

import (
	"context"
	"fmt"
	"math"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/mlcanary/mlcanary/internal/analysis"
)

// Querier is the part of the Prometheus HTTP API client Measure uses (v1.API satisfies it).
type Querier interface {
	Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, error)
}

// Lookback is how far before the window's start Measure reads samples, to find each series' value
// at the start (its baseline): Prometheus's default lookback delta, beyond which Prometheus itself
// treats a series without a sample as gone.
const Lookback = 5 * time.Minute

// Config is what Measure measures: two versions in a namespace over the window (Start, End].
type Config struct {
	// Endpoint is the API's base URL without credentials, for messages only.
	Endpoint    string
	Namespace   string
	Blue, Green Version
	Start, End  time.Time
	// SLO is the latency a request may take and not be slow; slow is counted at the smallest
	// histogram boundary at or above it.
	SLO time.Duration
	// Azure is set for an Azure Monitor workspace, whose refusals name a missing role.
	Azure bool
}

// Measurement is one version's counts over the window.
type Measurement struct {
	Version string `json:"version"`
	// Requests are those its pods' sidecars answered plus Unserved; Errors are its 5xx answers plus
	// Unserved.
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	// Unserved are the requests a proxy answered itself with a 503 for lack of an upstream (no ready
	// pod, connection failure, circuit breaking): counted as requests and as errors.
	Unserved int64 `json:"unserved"`
	// Timed are the requests the duration histogram counted; Slow those above the boundary.
	Timed int64 `json:"timed"`
	Slow  int64 `json:"slow"`
	// Newest is the time of its newest sample; ScrapeInterval the median spacing of its samples.
	Newest         time.Time     `json:"newest"`
	ScrapeInterval time.Duration `json:"scrapeInterval"`
}

// Result is both versions' measurements and how they were obtained.
type Result struct {
	Blue     Measurement `json:"blue"`
	Green    Measurement `json:"green"`
	Start    time.Time   `json:"start"`
	End      time.Time   `json:"end"`
	Endpoint string      `json:"endpoint"`
	// BoundaryMs is the histogram boundary slow requests were counted above (milliseconds).
	BoundaryMs float64  `json:"boundaryMs"`
	Queries    []Query  `json:"queries"`
	Warnings   []string `json:"warnings,omitempty"`
}

// Shares are the result as internal/analysis's shares, with margins as fractions.
func (r Result) Shares(maxErrorIncrease, maxSlowIncrease float64) []analysis.Share {
	return []analysis.Share{
		{Name: "errors", Margin: maxErrorIncrease,
			Blue:  analysis.Count{Bad: r.Blue.Errors, Of: r.Blue.Requests},
			Green: analysis.Count{Bad: r.Green.Errors, Of: r.Green.Requests}},
		{Name: "slow", Margin: maxSlowIncrease,
			Blue:  analysis.Count{Bad: r.Blue.Slow, Of: r.Blue.Timed},
			Green: analysis.Count{Bad: r.Green.Slow, Of: r.Green.Timed}},
	}
}

// raw is one version's samples, by selector.
type raw struct {
	served, unserved, duration model.Matrix
}

// Measure reads both versions' samples (three queries each, one metric and selector per query, all
// evaluated at End) and counts them. Its errors are each one sentence: *QueryError (the backend's
// message), *NoSeriesError, *StaleError (the caller may wait and measure again), *NoBoundaryError.
// No traffic is not an error: the counts are 0, and the decision says how many requests it needs.
func Measure(ctx context.Context, q Querier, cfg Config) (Result, error) {
	res := Result{Start: cfg.Start, End: cfg.End, Endpoint: cfg.Endpoint}
	span := cfg.End.Sub(cfg.Start) + Lookback
	var got [2]raw
	var sels [2]selectors
	for i, v := range []Version{cfg.Blue, cfg.Green} {
		sels[i] = selectorsFor(cfg.Namespace, v)
		sel := sels[i]
		for _, s := range []struct {
			what     string
			selector string
			into     *model.Matrix
		}{
			{v.Name + " requests", sel.served, &got[i].served},
			{v.Name + " requests answered for lack of an upstream", sel.unserved, &got[i].unserved},
			{v.Name + " durations", sel.duration, &got[i].duration},
		} {
			m, warnings, err := query(ctx, q, cfg, s.what, rangeOf(s.selector, span), &res)
			if err != nil {
				return res, err
			}
			res.Warnings = append(res.Warnings, warnings...)
			*s.into = m
		}
	}
	if err := checkSeries(cfg, got, sels, span); err != nil {
		return res, err
	}
	bounds := boundaries(got[0].duration, got[1].duration)
	sloMs := float64(cfg.SLO) / float64(time.Millisecond)
	boundary, ok := boundaryFor(bounds, sloMs)
	if !ok {
		return res, &NoBoundaryError{SLO: cfg.SLO, Boundaries: bounds}
	}
	res.BoundaryMs = boundary
	res.Blue = count(cfg.Blue.Name, got[0], cfg.Start, boundary)
	res.Green = count(cfg.Green.Name, got[1], cfg.Start, boundary)
	for _, m := range []Measurement{res.Blue, res.Green} {
		if stale(m, cfg.End) {
			return res, &StaleError{Version: m.Version, Newest: m.Newest, Interval: m.ScrapeInterval, End: cfg.End}
		}
	}
	return res, nil
}

// query runs one instant query of a range selector and records it in res.Queries.
func query(ctx context.Context, q Querier, cfg Config, what, promql string, res *Result) (model.Matrix, []string, error) {
	res.Queries = append(res.Queries, Query{What: what, PromQL: promql, Time: cfg.End})
	v, warnings, err := q.Query(ctx, promql, cfg.End)
	if err != nil {
		return nil, nil, &QueryError{Endpoint: cfg.Endpoint, Query: promql, Err: err, Azure: cfg.Azure}
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, nil, &QueryError{Endpoint: cfg.Endpoint, Query: promql,
			Err: fmt.Errorf("the answer is a %s, not the range vector a range selector gives", v.Type())}
	}
	return m, warnings, nil
}

// checkSeries fails when a version's requests or durations have no series at all. sels are the
// selectors Measure queried (blue's, green's) over span.
func checkSeries(cfg Config, got [2]raw, sels [2]selectors, span time.Duration) error {
	versions := []Version{cfg.Blue, cfg.Green}
	for i, v := range versions {
		other := got[1-i].served
		switch {
		case len(got[i].served) == 0:
			served, _ := requestCounts(other, cfg.Start)
			unserved, _ := requestCounts(got[1-i].unserved, cfg.Start)
			return &NoSeriesError{Version: v, Namespace: cfg.Namespace, Selector: sels[i].served, Window: span,
				OtherHasSeries: len(other) > 0, Other: versions[1-i].Name, OtherRequests: round(served + unserved)}
		case len(got[i].duration) == 0:
			return &NoSeriesError{Version: v, Namespace: cfg.Namespace, Selector: sels[i].duration, Window: span,
				OtherHasSeries: len(got[1-i].duration) > 0, Other: versions[1-i].Name}
		}
	}
	return nil
}

// count turns a version's samples into its measurement.
func count(name string, r raw, start time.Time, boundary float64) Measurement {
	served, errs := requestCounts(r.served, start)
	unserved, _ := requestCounts(r.unserved, start)
	timed, slow := bucketCounts(r.duration, start).slow(boundary)
	return Measurement{
		Version:  name,
		Requests: round(served + unserved), Errors: round(errs + unserved), Unserved: round(unserved),
		Timed: round(timed), Slow: round(slow),
		Newest: newest(r.served), ScrapeInterval: scrapeInterval(r.served),
	}
}

// staleFactor: a version's data is stale when its newest sample is older than this many scrape
// intervals at the window's end. One interval is the normal age of the newest sample; the other
// half absorbs a slow scrape or ingestion.
const staleFactor = 1.5

// stale reports whether m's newest sample is too old at end to trust the counts as complete.
func stale(m Measurement, end time.Time) bool {
	if m.ScrapeInterval <= 0 || m.Newest.IsZero() {
		return false
	}
	return float64(end.Sub(m.Newest)) > staleFactor*float64(m.ScrapeInterval)
}

// round is a counter's float value as a whole count.
func round(f float64) int64 { return int64(math.Round(f)) }
