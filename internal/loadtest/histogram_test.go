package loadtest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBucketBounds checks that every value lands in a bucket whose bounds contain it and whose
// width is at most 1/128 of its lower bound, across the whole range.
func TestBucketBounds(t *testing.T) {
	t.Parallel()
	for v := uint64(0); v < 1<<48; v = v*17/16 + 1 {
		i := bucket(v)
		lo, hi := bucketBounds(i)
		if i == numBuckets-1 {
			continue
		}
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d with bounds [%d, %d]", v, i, lo, hi)
		}
		if lo > 0 && float64(hi-lo)/float64(lo) > 1.0/subBuckets {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/%d", i, lo, hi, subBuckets)
		}
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"single", []time.Duration{3 * time.Millisecond}, 0.99, 3 * time.Millisecond},
		{"median of 1..1000 µs", ramp(1000, time.Microsecond), 0.5, 500 * time.Microsecond},
		{"p90 of 1..1000 µs", ramp(1000, time.Microsecond), 0.9, 900 * time.Microsecond},
		{"p99 of 1..1000 ms", ramp(1000, time.Millisecond), 0.99, 990 * time.Millisecond},
		{"p100 is the max", ramp(1000, time.Millisecond), 1, time.Second},
		{"small values are exact", []time.Duration{5, 7, 9}, 0.5, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h Histogram
			for _, v := range tc.values {
				h.Record(v)
			}
			got := h.Quantile(tc.q)
			if diff := float64(got-tc.want) / float64(max(tc.want, 1)); diff > 0.01 || diff < -0.01 {
				t.Errorf("Quantile(%g) = %s, want %s within 1%%", tc.q, got, tc.want)
			}
		})
	}
}

// ramp returns 1·unit, 2·unit, … n·unit in a shuffled-looking (reversed) order.
func ramp(n int, unit time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(n-i) * unit
	}
	return out
}

func TestMergeEqualsRecordingEverything(t *testing.T) {
	t.Parallel()
	values := ramp(5000, 3*time.Microsecond)
	var all, a, b Histogram
	for i, v := range values {
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(&b)
	type summary struct {
		N                   uint64
		Min, Max, Mean, P99 time.Duration
	}
	sum := func(h *Histogram) summary {
		return summary{h.Count(), h.Min(), h.Max(), h.Mean(), h.Quantile(0.99)}
	}
	if diff := cmp.Diff(sum(&all), sum(&a)); diff != "" {
		t.Errorf("merged histogram (-want +got)\n%s", diff)
	}
	if !slices.Equal(all.counts[:], a.counts[:]) {
		t.Error("merged bucket counts differ from recording everything into one histogram")
	}
}
