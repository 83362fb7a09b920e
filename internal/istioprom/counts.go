package istioprom

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// increase is how much one counter series grew in the window (start, end], counted exactly from its
// raw samples rather than extrapolated as PromQL's increase() does:
//   - from its last sample at or before start (the baseline) to its last sample, each drop below the
//     previous value read as a counter reset (the process restarted and counted again from 0, so the
//     new value is all new);
//   - a series with no sample at or before start counts from 0 (born inside the window: Istio creates
//     a series at the first request with its labels, the first 503 of a pod, a new pod), so the
//     requests before its first scrape are counted too; or, with fromFirst, from its first sample
//     (its scraping began in the window and its first value holds requests from before: baselines).
//
// The samples must come from a range a little longer than the window (lookback), so a baseline is
// found for every series that existed at start.
func increase(samples []model.SamplePair, start time.Time, fromFirst bool) float64 {
	startMs := model.TimeFromUnixNano(start.UnixNano())
	prev, total := 0.0, 0.0
	for i, s := range samples {
		v := float64(s.Value)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if s.Timestamp <= startMs || (i == 0 && fromFirst) {
			prev = v // a baseline: everything up to it happened before the window
			continue
		}
		if v >= prev {
			total += v - prev
		} else {
			total += v // reset
		}
		prev = v
	}
	return total
}

// newest is the time of the newest sample of any series in m, or the zero time when m has none.
func newest(m model.Matrix) time.Time {
	var t model.Time
	for _, s := range m {
		if n := len(s.Values); n > 0 && s.Values[n-1].Timestamp > t {
			t = s.Values[n-1].Timestamp
		}
	}
	if t == 0 {
		return time.Time{}
	}
	return t.Time()
}

// scrapeInterval is the median spacing of consecutive samples over all series of m: how often the
// series are scraped. 0 when no series has two samples.
func scrapeInterval(m model.Matrix) time.Duration {
	var gaps []int64
	for _, s := range m {
		for i := 1; i < len(s.Values); i++ {
			gaps = append(gaps, int64(s.Values[i].Timestamp-s.Values[i-1].Timestamp))
		}
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return time.Duration(gaps[len(gaps)/2]) * time.Millisecond
}

// requestCounts are the requests of a set of istio_requests_total series in the window, and of them
// those with a 5xx response code.
func requestCounts(m model.Matrix, b baselines) (requests, errors float64) {
	for _, s := range m {
		n := b.increase(s)
		requests += n
		if code := string(s.Metric["response_code"]); len(code) == 3 && code[0] == '5' {
			errors += n
		}
	}
	return requests, errors
}

// histogram is one version's duration buckets in the window: the requests counted at or under each
// boundary (milliseconds; +Inf is every timed request), summed over the series of each boundary.
type histogram map[float64]float64

// bucketCounts sums m's bucket series by their le label. Series whose le does not parse are skipped.
func bucketCounts(m model.Matrix, b baselines) histogram {
	h := histogram{}
	for _, s := range m {
		le, err := strconv.ParseFloat(string(s.Metric["le"]), 64)
		if err != nil {
			continue
		}
		h[le] += b.increase(s)
	}
	return h
}

// boundaries are the finite le values every bucket group of m has (a group: the series that differ
// only in le), in increasing order: the boundaries at which a count is exact for all of them.
func boundaries(ms ...model.Matrix) []float64 {
	groups := map[model.Fingerprint]map[float64]bool{}
	for _, m := range ms {
		for _, s := range m {
			le, err := strconv.ParseFloat(string(s.Metric["le"]), 64)
			if err != nil || math.IsInf(le, 0) {
				continue
			}
			key := s.Metric.Clone()
			delete(key, "le")
			g := groups[key.Fingerprint()]
			if g == nil {
				g = map[float64]bool{}
				groups[key.Fingerprint()] = g
			}
			g[le] = true
		}
	}
	var common []float64
	first := true
	for _, g := range groups {
		if first {
			for le := range g {
				common = append(common, le)
			}
			first = false
			continue
		}
		common = slices.DeleteFunc(common, func(le float64) bool { return !g[le] })
	}
	sort.Float64s(common)
	return common
}

// boundaryFor is the smallest of bounds at or above slo milliseconds, and false when there is none.
func boundaryFor(bounds []float64, sloMs float64) (float64, bool) {
	for _, b := range bounds {
		if b >= sloMs {
			return b, true
		}
	}
	return 0, false
}

// slow is the timed requests (the +Inf bucket) and those above boundary: timed minus those counted
// at or under it.
func (h histogram) slow(boundary float64) (timed, slow float64) {
	timed = h[math.Inf(1)]
	return timed, math.Max(0, timed-h[boundary])
}
