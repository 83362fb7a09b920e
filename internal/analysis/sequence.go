package analysis

import "math"

// Interval is a closed interval of proportions (fractions, not percent) or of a difference of two.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Count is bad requests out of all requests measured for one version over the window: errors out
// of requests, or slow requests out of the requests the latency histogram timed.
type Count struct {
	Bad int64 `json:"bad"`
	Of  int64 `json:"of"`
}

// Share is Bad/Of, or 0 when nothing was measured.
func (c Count) Share() float64 {
	if c.Of <= 0 {
		return 0
	}
	return float64(c.Bad) / float64(c.Of)
}

// Sequence returns the interval of Robbins's confidence sequence for a Bernoulli proportion p after
// c.Bad successes in c.Of trials, at error probability alpha:
//
//	{ p in [0, 1] : (n+1) · C(n, k) · p^k · (1-p)^(n-k) > alpha }.
//
// Where it comes from: the likelihood ratio of Bernoulli(q) against Bernoulli(p), mixed over a
// uniform prior on q, is M_n(p) = ∫ q^k (1-q)^(n-k) dq / (p^k (1-p)^(n-k)) = 1 / ((n+1)·C(n,k)·
// p^k·(1-p)^(n-k)), a non-negative martingale with M_0 = 1 under the true p, so by Ville's
// inequality (Ville 1939) P(there is an n with M_n(p) >= 1/alpha) <= alpha. The interval therefore
// covers the true p at EVERY n at once with probability at least 1-alpha, not only at one n fixed in
// advance: it may be looked at after every batch of requests, and the looking stopped whenever a
// decision is reached, without inflating the error (H. Robbins, "Statistical methods related to the
// law of the iterated logarithm", Ann. Math. Statist. 41(5):1397–1409, 1970; T. L. Lai, "On
// confidence sequences", Ann. Statist. 4(2):265–280, 1976; the mixture method in general: Howard,
// Ramdas, McAuliffe and Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence sequences",
// Ann. Statist. 49(2):1055–1080, 2021). The martingale depends on the trials only through (k, n), so
// counts read from a metrics backend at each look are enough: each look is one of the times the
// guarantee covers. With no trials it is [0, 1]. The observed share k/n is always inside, because
// the binomial probability of its mode is at least 1/(n+1).
func Sequence(c Count, alpha float64) Interval {
	return scaledSequence(c, 1, alpha)
}

// scaledSequence is Sequence for counts weighed as k/phi bad of n/phi requests (phi ≥ 1, the
// version's Dispersion): the same formula with the Beta function in place of the binomial
// coefficient, so the counts need not be whole.
func scaledSequence(c Count, phi, alpha float64) Interval {
	if c.Of <= 0 {
		return Interval{Low: 0, High: 1}
	}
	phi = math.Max(phi, 1)
	n := float64(c.Of) / phi
	k := float64(min(max(c.Bad, 0), c.Of)) / phi
	// inside(p) > 0 exactly when p is in the sequence; it is concave in p with its maximum at k/n.
	base := math.Log(n+1) + logChoose(n, k) - math.Log(alpha)
	inside := func(p float64) float64 {
		v := base
		if k > 0 {
			v += k * math.Log(p)
		}
		if n-k > 0 {
			v += (n - k) * math.Log1p(-p)
		}
		return v
	}
	mode := k / n
	out := Interval{Low: 0, High: 1}
	if k > 0 {
		out.Low = boundary(inside, 0, mode)
	}
	if k < n {
		out.High = boundary(inside, 1, mode)
	}
	return out
}

// boundary bisects between outside (where inside < 0, or an endpoint where it is -Inf) and in
// (where inside > 0) for the point where inside crosses 0, returning the point on the inside.
func boundary(inside func(float64) float64, outside, in float64) float64 {
	for range 200 {
		mid := (outside + in) / 2
		if mid == outside || mid == in {
			break
		}
		if inside(mid) > 0 {
			in = mid
		} else {
			outside = mid
		}
	}
	return in
}

// logChoose is log C(n, k), through the Gamma function so that n and k need not be whole.
func logChoose(n, k float64) float64 {
	a, _ := math.Lgamma(n + 1)
	b, _ := math.Lgamma(k + 1)
	c, _ := math.Lgamma(n - k + 1)
	return a - b - c
}

// Difference is the interval for blue's share minus green's when blue's and green's intervals each
// hold: [blue.Low − green.High, blue.High − green.Low]. By the union bound it holds at every look at
// once with probability at least 1 − (alpha_blue + alpha_green).
func Difference(blue, green Interval) Interval {
	return Interval{Low: blue.Low - green.High, High: blue.High - green.Low}
}
