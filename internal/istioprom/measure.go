package istioprom

import (
	"context"
	"fmt"
	"math"
	"slices"
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
	// Matchers are PromQL label matchers added to every selector (ParseMatchers' result), e.g.
	// cluster="aks-prod" to measure one cluster of a workspace that holds several.
	Matchers []string
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
// message), *NoSeriesError, *MixedClustersError (series of several clusters: Config.Matchers must
// choose one), *StaleError (the caller may wait and measure again), *NoBoundaryError. The same
// pod's counters reported by several scrapes are counted once (oneSource), and a series without a
// baseline counts from 0 only when it was born in the window (baselines); both say so in warnings.
// No traffic is not an error: the counts are 0, and the decision says how many requests it needs.
func Measure(ctx context.Context, q Querier, cfg Config) (Result, error) {
	res := Result{Start: cfg.Start, End: cfg.End, Endpoint: cfg.Endpoint}
	span := cfg.End.Sub(cfg.Start) + Lookback
	var got [2]raw
	var sels [2]selectors
	for i, v := range []Version{cfg.Blue, cfg.Green} {
		sels[i] = selectorsFor(cfg.Namespace, v, cfg.Matchers)
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
	if err := oneCluster(regexMatched(cfg.Matchers), slices.Concat(got[0].served, got[1].served), slices.Concat(got[0].unserved, got[1].unserved),
		slices.Concat(got[0].duration, got[1].duration)); err != nil {
		return res, err
	}
	for i, v := range []Version{cfg.Blue, cfg.Green} {
		for _, m := range []struct {
			what string
			into *model.Matrix
		}{{v.Name + "'s requests", &got[i].served}, {v.Name + "'s requests answered for lack of an upstream", &got[i].unserved},
			{v.Name + "'s durations", &got[i].duration}} {
			var warning string
			if *m.into, warning = oneSource(*m.into, cfg.Start, m.what); warning != "" {
				res.Warnings = append(res.Warnings, warning)
			}
		}
	}
	b, warnings := newBaselines(cfg.Start, got[0].served, got[0].unserved, got[0].duration, got[1].served, got[1].unserved, got[1].duration)
	res.Warnings = append(res.Warnings, warnings...)
	bounds := boundaries(got[0].duration, got[1].duration)
	sloMs := float64(cfg.SLO) / float64(time.Millisecond)
	boundary, ok := boundaryFor(bounds, sloMs)
	if !ok {
		return res, &NoBoundaryError{SLO: cfg.SLO, Boundaries: bounds}
	}
	res.BoundaryMs = boundary
	res.Blue = count(cfg.Blue.Name, got[0], b, boundary)
	res.Green = count(cfg.Green.Name, got[1], b, boundary)
	return res, fresh(res.Blue, res.Green, cfg.End, cfg.Azure)
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
			b, _ := newBaselines(cfg.Start, other, got[1-i].unserved)
			served, _ := requestCounts(other, b)
			unserved, _ := requestCounts(got[1-i].unserved, b)
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
func count(name string, r raw, b baselines, boundary float64) Measurement {
	served, errs := requestCounts(r.served, b)
	unserved, _ := requestCounts(r.unserved, b)
	timed, slow := bucketCounts(r.duration, b).slow(boundary)
	return Measurement{
		Version:  name,
		Requests: round(served + unserved), Errors: round(errs + unserved), Unserved: round(unserved),
		Timed: round(timed), Slow: round(slow),
		Newest: newest(r.served), ScrapeInterval: scrapeInterval(r.served),
	}
}

// staleFactor: a version's data is stale when its newest sample is older than this many scrape
// intervals. One interval is the normal age of the newest sample; the other half absorbs a slow
// scrape or ingestion.
const staleFactor = 1.5

// lagIntervals and AzureDelay are how far the newest sample of both versions may lag the window's
// end (the runner's clock) beyond staleFactor scrape intervals and still be fresh: lagIntervals
// scrape intervals (a remote-write queue, a runner's clock a little ahead of the backend's), and for
// an Azure Monitor workspace at least AzureDelay (its ingestion delay). Within it, the data up to the
// newest sample is judged; beyond it, the data is stale.
const (
	lagIntervals = 4
	AzureDelay   = 3 * time.Minute
)

// fresh fails with *StaleError when one version's newest sample is more than staleFactor of its
// scrape intervals older than the other's (its scraping stopped while the other's goes on: its
// counts would miss its latest requests), or when the newest sample of both lags end by more than
// that plus the lag allowed (nothing has been scraped or ingested lately). The backend's own time,
// the newest sample, decides the first, so a runner's clock ahead of it or an ingestion delay is no
// staleness.
func fresh(blue, green Measurement, end time.Time, azure bool) error {
	newer, older := blue, green
	if older.Newest.After(newer.Newest) {
		newer, older = older, newer
	}
	if older.ScrapeInterval > 0 && !older.Newest.IsZero() && !newer.Newest.IsZero() &&
		float64(newer.Newest.Sub(older.Newest)) > staleFactor*float64(older.ScrapeInterval) {
		return &StaleError{Version: older.Version, Newest: older.Newest, Interval: older.ScrapeInterval, End: newer.Newest, Other: newer.Version}
	}
	iv := max(blue.ScrapeInterval, green.ScrapeInterval)
	lag := lagIntervals * iv
	if azure {
		lag = max(lag, AzureDelay)
	}
	if iv > 0 && !newer.Newest.IsZero() && end.Sub(newer.Newest) > time.Duration(staleFactor*float64(iv))+lag {
		return &StaleError{Newest: newer.Newest, Interval: iv, End: end, Lag: lag}
	}
	return nil
}

// round is a counter's float value as a whole count.
func round(f float64) int64 { return int64(math.Round(f)) }
