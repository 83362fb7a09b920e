package compare

import (
	"math"
	"sort"
)

// Sketch counts float64 values in ordered buckets over float64's whole range, so that no magnitude
// is lumped together (epoch milliseconds, amounts in cents or 1e300 are told apart as well as 0.5):
// each power of two of |x| (2^-1074 to 2^1024) is split into sketchSub equal parts (relative width
// under 0.4%), with one bucket for 0 and one at each end for ±Inf. Buckets are kept in chunks of
// sketchSub, made when a value first falls in them, so its size does not depend on how many values
// it holds: at most one chunk per power of two and sign (about 4200 of 2 KiB), a few in practice.
type Sketch struct {
	chunks map[int]*[sketchSub]uint64
	n      uint64
}

const (
	sketchSubBits = 8
	sketchSub     = 1 << sketchSubBits
	sketchMinExp  = -1074                                       // math.Frexp's exponent of the smallest subnormal is -1073
	sketchMaxExp  = 1024                                        // and of the largest float64
	sketchSide    = (sketchMaxExp-sketchMinExp+1)*sketchSub + 1 // buckets per sign, +Inf last
)

// sketchBucket maps x to its bucket, from 0 (−Inf) to 2·sketchSide (+Inf), sketchSide for 0; the
// order of buckets is the order of values.
func sketchBucket(x float64) int {
	if x == 0 {
		return sketchSide
	}
	pos := sketchSide - 1 // ±Inf
	if ax := math.Abs(x); !math.IsInf(ax, 1) {
		frac, exp := math.Frexp(ax) // ax = frac·2^exp, frac in [0.5, 1)
		pos = (exp-sketchMinExp)*sketchSub + int((frac-0.5)*2*sketchSub)
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
	if s.chunks == nil {
		s.chunks = map[int]*[sketchSub]uint64{}
	}
	b := sketchBucket(x)
	c := s.chunks[b>>sketchSubBits]
	if c == nil {
		c = new([sketchSub]uint64)
		s.chunks[b>>sketchSubBits] = c
	}
	c[b&(sketchSub-1)]++
	s.n++
}

// count is the values in bucket b.
func (s *Sketch) count(b int) uint64 {
	if c := s.chunks[b>>sketchSubBits]; c != nil {
		return c[b&(sketchSub-1)]
	}
	return 0
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
	seen := map[int]bool{}
	var chunks []int // the chunks either sketch holds, in order: empty buckets change neither sum
	for _, s := range []*Sketch{green, blue} {
		for k := range s.chunks {
			if !seen[k] {
				seen[k] = true
				chunks = append(chunks, k)
			}
		}
	}
	sort.Ints(chunks)
	var cg, cb uint64
	for _, k := range chunks {
		for b := k << sketchSubBits; b < (k+1)<<sketchSubBits; b++ {
			cg += green.count(b)
			cb += blue.count(b)
			r.D = math.Max(r.D, math.Abs(float64(cg)/float64(green.n)-float64(cb)/float64(blue.n)))
		}
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
