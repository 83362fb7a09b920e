package loadtest

import (
	"math"
)

// Interval is a two-sided confidence interval for a proportion, as fractions in [0, 1].
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Z returns the standard normal quantile for a two-sided interval at confidence (e.g. 0.95 gives
// 1.959964), split across tests comparisons with the Bonferroni correction so that all of them
// hold together at that confidence.
func Z(confidence float64, tests int) float64 {
	alpha := (1 - confidence) / float64(max(tests, 1))
	return math.Sqrt2 * math.Erfinv(1-alpha)
}

// Wilson returns the Wilson score interval for k successes in n trials at normal quantile z. Unlike
// the textbook p ± z·sqrt(p(1-p)/n) interval it stays inside [0, 1] and keeps its coverage near
// 0 and 1, which matters here because weights of 0 and 100 are common.
func Wilson(k, n int, z float64) Interval {
	if n <= 0 {
		return Interval{Low: 0, High: 1}
	}
	nf, p, z2 := float64(n), float64(k)/float64(n), z*z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi := math.Max(0, center-half), math.Min(1, center+half)
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return Interval{Low: lo, High: hi}
}

// SampleSize is how many requests make a decision likely when the true shares equal expected: it
// makes every Wilson interval at most tolerance/2 wide on each side, leaving the other half of the
// tolerance for chance deviation. Shares of 0 or 1 still need enough requests for the one-sided
// interval to fit inside the tolerance.
func SampleSize(expected []float64, confidence, tolerance float64) int {
	z := Z(confidence, len(expected))
	n := 2 * z * z / tolerance
	for _, e := range expected {
		half := tolerance / 2
		n = math.Max(n, z*z*e*(1-e)/(half*half))
	}
	return int(math.Ceil(n))
}
