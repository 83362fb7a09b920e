package benchstage

import (
	"math"
	"slices"
	"time"
)

// confidence is the least coverage asked of a median's interval (95 %).
const confidence = 0.95

// interval is a distribution-free confidence interval for the median of the population a sample
// was drawn from: [Lo, Hi] are the sample's order statistics x(K) and x(N+1-K), 1-based, of its N
// values sorted, and Coverage the exact probability (≥ confidence when N ≥ 6) that such an
// interval holds the median, whatever the distribution (continuous).
type interval struct {
	Median, Lo, Hi float64
	K, N           int
	Coverage       float64
}

// medianInterval returns the sample's median and its interval by the order statistics of the
// binomial (the interval that goes with the sign test): each value lies below the population's
// median with probability ½, so the number below it is Binomial(N, ½) and
// P(x(K) ≤ median ≤ x(N+1-K)) = 1 − 2·P(B ≤ K−1). K is the largest for which that is at least
// confidence (W. J. Conover, Practical Nonparametric Statistics, 3rd ed., Wiley 1999, §3.2,
// "confidence interval for a quantile", with p = ½). With fewer than 6 values no K reaches 95 %:
// the interval is then the whole range, with its (lower) coverage. An empty sample gives NaNs.
func medianInterval(xs []float64) interval {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		nan := math.NaN()
		return interval{Median: nan, Lo: nan, Hi: nan}
	}
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	k, coverage := 1, 1-2*binomialHalfCDF(n, 0)
	for next := 2; next <= (n+1)/2; next++ {
		c := 1 - 2*binomialHalfCDF(n, next-1)
		if c < confidence {
			break
		}
		k, coverage = next, c
	}
	return interval{Median: med, Lo: s[k-1], Hi: s[n-k], K: k, N: n, Coverage: coverage}
}

// binomialHalfCDF is P(B ≤ j) for B ~ Binomial(n, ½), summed in logarithms (no overflow for any
// n a bench runs).
func binomialHalfCDF(n, j int) float64 {
	lgn, _ := math.Lgamma(float64(n + 1))
	p := 0.0
	for i := 0; i <= j && i <= n; i++ {
		lgi, _ := math.Lgamma(float64(i + 1))
		lgr, _ := math.Lgamma(float64(n - i + 1))
		p += math.Exp(lgn - lgi - lgr - float64(n)*math.Ln2)
	}
	return p
}

// pairedRatios returns num[i] / den[i] for each round i: the two runs of a round ran back to back
// (the rounds interleave the tools), so each ratio compares them under the same load of the
// machine, which a ratio of two medians taken over different rounds does not. Rounds missing from
// either side are left out.
func pairedRatios(num, den []time.Duration) []float64 {
	n := min(len(num), len(den))
	out := make([]float64, 0, n)
	for i := range n {
		if den[i] > 0 {
			out = append(out, float64(num[i])/float64(den[i]))
		}
	}
	return out
}

// Verdicts of a goal on a ratio's interval.
const (
	verdictMet       = "met"
	verdictNotMet    = "NOT met"
	verdictUndecided = "undecided (spread too wide: run again on a quiet machine or with more rounds)"
)

// atLeast judges the goal "ratio ≥ goal": met only when the whole interval is at or above it, NOT
// met only when the whole interval is below it, undecided otherwise.
func atLeast(iv interval, goal float64) string {
	switch {
	case iv.Lo >= goal:
		return verdictMet
	case iv.Hi < goal:
		return verdictNotMet
	}
	return verdictUndecided
}

// atMost judges the goal "ratio ≤ goal", as atLeast does.
func atMost(iv interval, goal float64) string {
	switch {
	case iv.Hi <= goal:
		return verdictMet
	case iv.Lo > goal:
		return verdictNotMet
	}
	return verdictUndecided
}

// median is the middle value of ds (the mean of the middle two for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
