package istioprom

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// at is a sample at t0 + secs seconds.
func at(secs int, v float64) model.SamplePair {
	return model.SamplePair{Timestamp: model.TimeFromUnixNano(t0.Add(time.Duration(secs) * time.Second).UnixNano()), Value: model.SampleValue(v)}
}

// TestIncrease: exact counts in (start, end], by hand: each case's want is the sum of the steps
// after the baseline, a reset counting its new value whole.
func TestIncrease(t *testing.T) {
	start := t0.Add(60 * time.Second)
	for _, c := range []struct {
		name    string
		samples []model.SamplePair
		want    float64
	}{
		{"baseline before the window", []model.SamplePair{at(0, 100), at(30, 110), at(60, 120), at(90, 150), at(120, 170)}, 50},
		{"baseline exactly at the start", []model.SamplePair{at(60, 120), at(90, 125)}, 5},
		{"series born in the window counts from 0", []model.SamplePair{at(90, 3), at(120, 7)}, 7},
		{"counter reset: the new value is all new", []model.SamplePair{at(30, 100), at(90, 130), at(120, 4), at(150, 10)}, 30 + 4 + 6},
		{"only samples before the window", []model.SamplePair{at(0, 100), at(30, 110)}, 0},
		{"no change", []model.SamplePair{at(30, 5), at(90, 5), at(120, 5)}, 0},
		{"NaN and Inf skipped", []model.SamplePair{at(30, 5), at(90, math.NaN()), at(120, 9)}, 4},
		{"no samples", nil, 0},
	} {
		if got := increase(c.samples, start, false); got != c.want {
			t.Errorf("%s: %g, want %g", c.name, got, c.want)
		}
	}
}

// series is a matrix row with labels.
func series(labels map[string]string, samples ...model.SamplePair) *model.SampleStream {
	m := model.Metric{}
	for k, v := range labels {
		m[model.LabelName(k)] = model.LabelValue(v)
	}
	return &model.SampleStream{Metric: m, Values: samples}
}

// TestBoundaries: the boundaries every bucket group has, so one count is exact for all; the SLO's
// boundary is the smallest at or above it.
func TestBoundaries(t *testing.T) {
	s := func(pod, le string) *model.SampleStream {
		return series(map[string]string{"pod": pod, "le": le}, at(0, 1))
	}
	m := model.Matrix{s("a", "500"), s("a", "1000"), s("a", "2500"), s("a", "+Inf"), s("b", "1000"), s("b", "2500"), s("b", "+Inf"), s("b", "5000")}
	got := boundaries(m)
	if len(got) != 2 || got[0] != 1000 || got[1] != 2500 {
		t.Fatalf("boundaries %v, want [1000 2500]", got)
	}
	for _, c := range []struct {
		slo  float64
		want float64
		ok   bool
	}{{1000, 1000, true}, {999, 1000, true}, {1001, 2500, true}, {2501, 0, false}} {
		b, ok := boundaryFor(got, c.slo)
		if b != c.want || ok != c.ok {
			t.Errorf("SLO %gms: %g %v, want %g %v", c.slo, b, ok, c.want, c.ok)
		}
	}
}

// TestSlowCounts: slow = timed (+Inf) − at or under the boundary, over series and pods.
func TestSlowCounts(t *testing.T) {
	start := t0
	b := func(pod, le string, from, to float64) *model.SampleStream {
		return series(map[string]string{"pod": pod, "le": le}, at(0, from), at(60, to))
	}
	m := model.Matrix{b("a", "1000", 10, 90), b("a", "+Inf", 10, 100), b("b", "1000", 0, 45), b("b", "+Inf", 0, 50)}
	timed, slow := bucketCounts(m, baselines{start: start}).slow(1000)
	if timed != 90+50 || slow != 10+5 {
		t.Errorf("timed %g slow %g, want 140 and 15", timed, slow)
	}
}

// TestScrapeIntervalAndNewest: the median gap, the newest time.
func TestScrapeIntervalAndNewest(t *testing.T) {
	m := model.Matrix{series(nil, at(0, 1), at(30, 2), at(60, 3)), series(nil, at(15, 1), at(45, 2), at(200, 3))}
	if got := scrapeInterval(m); got != 30*time.Second {
		t.Errorf("interval %s, want 30s", got)
	}
	if got := newest(m); !got.Equal(t0.Add(200 * time.Second)) {
		t.Errorf("newest %s", got)
	}
}
