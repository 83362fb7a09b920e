package analysis

import (
	"math"
	"testing"
)

// binomialPMF is the reference for Sequence's bound: C(n, k) p^k (1-p)^(n-k) computed term by term
// (the binomial coefficient as a running product of (n-k+i)/i, not through Lgamma), in logs so that
// n in the thousands does not underflow.
func binomialPMF(n, k int64, p float64) float64 {
	logC := 0.0
	for i := int64(1); i <= k; i++ {
		logC += math.Log(float64(n-k+i)) - math.Log(float64(i))
	}
	return math.Exp(logC + float64(k)*math.Log(p) + float64(n-k)*math.Log(1-p))
}

// TestSequenceClosedForms: with no bad requests the upper bound solves (n+1)(1-U)^n = alpha, so
// U = 1 - (alpha/(n+1))^(1/n); with all requests bad, L = (alpha/(n+1))^(1/n). The first row was
// also checked by hand: n=100, alpha=0.0025: (1-U)^100 = 0.0025/101 = 2.4752e-5, 100·ln(1-U) =
// -10.6066, U = 1 - e^-0.106066 = 0.10063.
func TestSequenceClosedForms(t *testing.T) {
	for _, c := range []struct {
		n     int64
		alpha float64
	}{{100, 0.0025}, {1, 0.05}, {10, 0.01}, {1000, 0.0025}, {200000, 0.0025}} {
		want := 1 - math.Pow(c.alpha/float64(c.n+1), 1/float64(c.n))
		got := Sequence(Count{Bad: 0, Of: c.n}, c.alpha)
		if got.Low != 0 || math.Abs(got.High-want) > 1e-9 {
			t.Errorf("0 of %d at alpha %g: got %+v, want [0, %.9f]", c.n, c.alpha, got, want)
		}
		all := Sequence(Count{Bad: c.n, Of: c.n}, c.alpha)
		if all.High != 1 || math.Abs(all.Low-(1-want)) > 1e-9 {
			t.Errorf("%d of %d at alpha %g: got %+v, want [%.9f, 1]", c.n, c.n, c.alpha, all, 1-want)
		}
	}
	if got := Sequence(Count{Bad: 0, Of: 100}, 0.0025).High; math.Abs(got-0.10063) > 5e-6 {
		t.Errorf("hand-checked bound: got %.6f, want 0.10063", got)
	}
}

// TestSequenceAgainstReference: at each bound the reference (n+1)·pmf equals alpha (the bound is the
// boundary of the set), just inside it exceeds alpha and just outside it does not, and the observed
// share lies inside.
func TestSequenceAgainstReference(t *testing.T) {
	const alpha = 0.0025
	for _, c := range []Count{{1, 10}, {5, 100}, {10, 1000}, {100, 10000}, {250, 1000}, {999, 1000}, {3, 50000}} {
		got := Sequence(c, alpha)
		n := float64(c.Of)
		at := func(p float64) float64 { return (n + 1) * binomialPMF(c.Of, c.Bad, p) }
		for _, b := range []struct {
			name   string
			p, out float64
		}{{"low", got.Low, got.Low * (1 - 1e-6)}, {"high", got.High, got.High + (1-got.High)*1e-6}} {
			if v := at(b.p); math.Abs(v-alpha)/alpha > 1e-6 {
				t.Errorf("%d of %d: (n+1)·pmf at the %s bound %.9g is %.9g, want %g", c.Bad, c.Of, b.name, b.p, v, alpha)
			}
			if v := at(b.out); v > alpha {
				t.Errorf("%d of %d: just outside the %s bound (n+1)·pmf is %.9g > alpha", c.Bad, c.Of, b.name, v)
			}
		}
		if s := c.Share(); s < got.Low || s > got.High {
			t.Errorf("%d of %d: observed share %g outside %+v", c.Bad, c.Of, s, got)
		}
	}
}

// TestSequenceNoRequests: nothing measured is nothing known.
func TestSequenceNoRequests(t *testing.T) {
	if got := Sequence(Count{}, 0.01); got != (Interval{0, 1}) {
		t.Errorf("got %+v, want [0, 1]", got)
	}
}
