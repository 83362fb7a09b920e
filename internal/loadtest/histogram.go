package loadtest

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records latencies in a fixed number of log-linear buckets, so its size does not depend
// on how many requests were sent. Each power of two is split into subBuckets equal parts, which
// bounds the relative error of any quantile to 1/subBuckets (under 1%).
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

const (
	subBits    = 7
	subBuckets = 1 << subBits // 128 buckets per power of two
	// maxExp covers latencies up to 2^(maxExp+subBits) ns, about 38 hours; larger values land in the last bucket.
	maxExp     = 40
	numBuckets = (maxExp + 1) * subBuckets
)

// bucket maps a non-negative duration in nanoseconds to its bucket index.
func bucket(ns uint64) int {
	if ns < subBuckets {
		return int(ns)
	}
	exp := bits.Len64(ns) - subBits - 1 // shift that leaves subBits+1 significant bits
	if exp >= maxExp {
		return numBuckets - 1
	}
	return (exp+1)*subBuckets + int(ns>>uint(exp)) - subBuckets
}

// bucketBounds returns the smallest and largest nanosecond value that map to bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < subBuckets {
		return uint64(i), uint64(i)
	}
	exp := uint(i/subBuckets - 1)
	mant := uint64(i%subBuckets + subBuckets)
	return mant << exp, (mant+1)<<exp - 1
}

// Record adds one latency; negative values count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds every observation of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of recorded latencies.
func (h *Histogram) Count() uint64 { return h.n }

// Min is the smallest recorded latency. Min, Max and Mean are exact; zero when nothing was recorded.
func (h *Histogram) Min() time.Duration { return h.min }

// Max is the largest recorded latency.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean is the arithmetic mean of the recorded latencies.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the latency below which a fraction q (0..1) of observations fall, using the
// nearest-rank method: the value is the midpoint of the bucket holding that rank, clamped to the
// exact min and max, so it is within 1% of the true order statistic.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketBounds(i)
			v := time.Duration(lo + (hi-lo)/2)
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}
