package istioprom

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// baselines decides how a series with no sample at or before the window's start (no baseline) is
// counted. Istio creates a series at the first request with its labels, so such a series was
// usually born in the window and counts from 0. But a series is also without a baseline when
// nothing scraped its pod in the Lookback before the start: Prometheus was down through the stage's
// change, scraping of Istio's metrics began in the window (a new scrape config, a new Prometheus),
// or that one pod's target was missed (a node under pressure, a restarting collector shard, a
// timed-out :15020). Its first sample then holds the pod's whole life, weeks of requests, which must
// never be counted as the window's. The rule, per scrape target (the job and targetOf: the pod's
// instance host or pod label; per job alone for series that name neither):
//   - a target with any series with a baseline was scraped before the window: its series without one
//     were born in the window and count from 0;
//   - a target without any baseline had its first scrape in the window. When the request counters its
//     first samples read are more than resumedFactor times what they counted after it (or at that
//     rate over the time from the window's start to it, whichever is more), plus resumedSlack,
//     they are lifetime counters: those series count from their first sample (the
//     requests before it are not attributable to the window) and a warning says so; series that
//     appear at a later scrape were born since and count from 0. Otherwise (a first release, a
//     fresh Prometheus, a fresh pod) they count from 0.
type baselines struct {
	start time.Time
	// resumed maps each target (targetKey) judged resumed to the end of its first scrape: its series
	// whose first sample is at or before it count from that sample.
	resumed map[string]model.Time
}

// resumedFactor and resumedSlack bound what a first scrape may read and still be counted from 0:
// at most resumedFactor times what the series counted after it (or at that rate from the window's
// start to it), plus resumedSlack requests (a handful at a slow rate). A pod's lifetime counters
// read far more than one window holds; a counter born in the window cannot.
const (
	resumedFactor = 1.5
	resumedSlack  = 20
)

func jobOf(s *model.SampleStream) string { return string(s.Metric["job"]) }

// targetKey is the scrape target a series came from: its job and its pod (targetOf).
func targetKey(s *model.SampleStream) string { return jobOf(s) + "\x00" + targetOf(s) }

// fromFirst reports whether s counts from its first sample rather than from 0 when it has no
// baseline.
func (b baselines) fromFirst(s *model.SampleStream) bool {
	cut, ok := b.resumed[targetKey(s)]
	return ok && len(s.Values) > 0 && s.Values[0].Timestamp <= cut
}

// increase is s's increase in the window under b's rule.
func (b baselines) increase(s *model.SampleStream) float64 {
	return increase(s.Values, b.start, b.fromFirst(s))
}

// newBaselines applies the rule to every series of ms (both versions' matrices, after oneSource),
// with one warning per job with targets judged resumed.
func newBaselines(start time.Time, ms ...model.Matrix) (baselines, []string) {
	b := baselines{start: start, resumed: map[string]model.Time{}}
	targets := map[string]model.Matrix{}
	var keys []string
	for _, m := range ms {
		for _, s := range m {
			if len(s.Values) == 0 {
				continue
			}
			k := targetKey(s)
			if _, ok := targets[k]; !ok {
				keys = append(keys, k)
			}
			targets[k] = append(targets[k], s)
		}
	}
	slices.Sort(keys)
	type resumedJob struct {
		targets        []string
		first          model.Time
		read, expected float64
	}
	jobs := map[string]*resumedJob{}
	var names []string
	for _, k := range keys {
		series := targets[k]
		first, cut, read, expected, ok := b.judge(series)
		if !ok {
			continue
		}
		b.resumed[k] = cut
		j := jobOf(series[0])
		r := jobs[j]
		if r == nil {
			r = &resumedJob{first: first}
			jobs[j] = r
			names = append(names, j)
		}
		if t := targetOf(series[0]); t != "" {
			r.targets = append(r.targets, t)
		}
		r.first, r.read, r.expected = min(r.first, first), r.read+read, r.expected+expected
	}
	var warnings []string
	for _, j := range names {
		r := jobs[j]
		of := "Istio's metrics"
		if j != "" {
			of += " of job " + strconv.Quote(j)
		}
		if n := len(r.targets); n > 0 {
			shown := r.targets[:min(n, 3)]
			more := ""
			if n > 3 {
				more = fmt.Sprintf(" and %d more", n-3)
			}
			of += fmt.Sprintf(" from %s%s", strings.Join(shown, ", "), more)
		}
		warnings = append(warnings, fmt.Sprintf("%s have no sample in the %s before the window's start and their first ones, at %s, "+
			"already read %.0f where their rates since explain about %.0f: scraping began or resumed in the window, so they are counted from then",
			of, Lookback, r.first.Time().UTC().Format(time.RFC3339), r.read, r.expected))
	}
	return b, warnings
}

// judge applies the rule to one target's series: ok when it was first scraped in the window and its
// first samples read lifetime counters, with the time of its first sample, the end of its first
// scrape (cut), what its first samples read and what its rates explain.
func (b baselines) judge(series model.Matrix) (first, cut model.Time, read, expected float64, ok bool) {
	startMs := model.TimeFromUnixNano(b.start.UnixNano())
	first = model.Time(math.MaxInt64)
	for _, s := range series {
		first = min(first, s.Values[0].Timestamp)
	}
	if first <= startMs {
		return first, 0, 0, 0, false // scraped before the window
	}
	cut = model.Time(math.MaxInt64)
	if iv := scrapeInterval(series); iv > 0 {
		cut = first.Add(time.Duration(1.5 * float64(iv)))
	}
	// Judged on the request counters (the histograms' buckets count the same requests again, up to
	// twenty times), on the buckets only when the target has nothing else.
	judged := slices.DeleteFunc(slices.Clone(series), func(s *model.SampleStream) bool { return s.Metric["le"] != "" })
	if len(judged) == 0 {
		judged = series
	}
	for _, s := range judged {
		t1 := s.Values[0].Timestamp
		if t1 > cut {
			continue
		}
		read += float64(s.Values[0].Value)
		if last := s.Values[len(s.Values)-1].Timestamp; last > t1 {
			// What the series counted after its first sample, or at its rate since over the time
			// from the window's start to it, whichever is more: a burst before the first scrape
			// followed by quiet is still fresh.
			grew := increase(s.Values, b.start, true)
			expected += max(grew, grew/float64(last-t1)*float64(t1-startMs))
		}
	}
	return first, cut, read, expected, read > resumedFactor*expected+resumedSlack
}
