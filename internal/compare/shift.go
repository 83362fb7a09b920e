package compare

import (
	"math"
)

// Sketch counts float64 values in a fixed number of ordered buckets, so its size does not depend on
// how many values it holds: each power of two of |x| between 2^sketchMinExp and 2^sketchMaxExp is split
// into sketchSub equal parts (relative width under 0.4%), with one bucket for the values nearer 0
// than 2^sketchMinExp (about 1e-9), and the ends holding everything beyond ±2^sketchMaxExp (about 1.7e10).
type Sketch struct {
	counts []uint64
	n      uint64
}

const (
	sketchSubBits = 8
	sketchSub     = 1 << sketchSubBits
	sketchMinExp  = -30
	sketchMaxExp  = 34
	sketchSide    = (sketchMaxExp - sketchMinExp) * sketchSub // buckets per sign
)

// bucket maps x to its bucket; the order of buckets is the order of values.
func sketchBucket(x float64) int {
	ax := math.Abs(x)
	if ax < math.Ldexp(1, sketchMinExp) {
		return sketchSide
	}
	frac, exp := math.Frexp(ax) // ax = frac·2^exp, frac in [0.5, 1)
	pos := sketchSide - 1
	if exp <= sketchMaxExp && !math.IsInf(ax, 1) { // Frexp(±Inf) is (±Inf, 0)
		pos = (exp-sketchMinExp-1)*sketchSub + int((frac-0.5)*2*sketchSub)
	}
	if x < 0 {
		return sketchSide - 1 - pos
	}
	return sketchSide + 1 + pos
}

// Add counts x; NaN is not a value and is not counted.
func (s *Sketch) Add(x float64) {
	if math.IsNaN(x) {
		return
	}
	if s.counts == nil {
		s.counts = make([]uint64, 2*sketchSide+1)
	}
	s.counts[sketchBucket(x)]++
	s.n++
}

// Count is the number of values added.
func (s *Sketch) Count() uint64 { return s.n }

// KS is a two-sample Kolmogorov–Smirnov test of whether two samples come from the same
// distribution.
type KS struct {
	// D is the statistic: the largest distance between the two samples' empirical distribution
	// functions, D = sup_x |F_green(x) − F_blue(x)|, from 0 (the same) to 1 (no overlap). It is read
	// at the sketches' bucket edges, so values closer than a bucket's width (0.4%) count as equal and
	// D is exact otherwise.
	D float64 `json:"d"`
	// P is the asymptotic p-value: the probability of a D at least this large if both samples came from
	// one distribution, Q_KS((√Ne + 0.12 + 0.11/√Ne)·D) with Ne = n·m/(n+m) and
	// Q_KS(λ) = 2 Σ_{j≥1} (−1)^(j−1) e^(−2j²λ²) (Kolmogorov's distribution; Press et al., Numerical
	// Recipes, 3rd ed., §14.3.3, eq. 14.3.18 with Stephens' correction). Small P: the outputs' distribution shifted.
	P float64 `json:"p"`
	// Green and Blue are the sample sizes.
	Green uint64 `json:"green"`
	Blue  uint64 `json:"blue"`
}

// KolmogorovSmirnov compares the green and blue sketches; with an empty sample D is 0 and P is 1.
func KolmogorovSmirnov(green, blue *Sketch) KS {
	r := KS{P: 1, Green: green.n, Blue: blue.n}
	if green.n == 0 || blue.n == 0 {
		return r
	}
	var cg, cb uint64
	for i := range green.counts {
		cg += green.counts[i]
		cb += blue.counts[i]
		r.D = math.Max(r.D, math.Abs(float64(cg)/float64(green.n)-float64(cb)/float64(blue.n)))
	}
	n, m := float64(green.n), float64(blue.n)
	en := math.Sqrt(n * m / (n + m))
	r.P = qKS((en + 0.12 + 0.11/en) * r.D)
	return r
}

// qKS is the Kolmogorov distribution's complement Q_KS(λ) = 2 Σ_{j≥1} (−1)^(j−1) e^(−2j²λ²),
// 1 for λ near 0 (where the series converges too slowly and the value is 1 to many places).
func qKS(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	sum, sign := 0.0, 1.0
	for j := 1; j <= 100; j++ {
		term := sign * math.Exp(-2*float64(j*j)*lambda*lambda)
		sum += term
		if math.Abs(term) < 1e-12*math.Abs(sum) {
			break
		}
		sign = -sign
	}
	return math.Min(1, math.Max(0, 2*sum))
}
