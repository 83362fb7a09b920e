package analysis

import "math"

// MinLooks is how many looks with requests each version needs before a share it is in is decided
// when the share carries its per-look counts (Share.BlueLooks, GreenLooks): with fewer, how much
// the version's bad requests cluster in time (Dispersion) cannot be estimated — one look of 120
// errors in 1,200 requests is as likely a 10% version as a 1% one whose errors came in one burst.
const MinLooks = 3

// Dispersion is the Pearson estimate of how much a version's bad requests cluster in time beyond
// independent draws, from its per-look counts (each look's increment: requests and bad requests
// between two looks): φ = max(1, X²/(m−1)) with X² = Σ (k_i − n_i·p̂)² / (n_i·p̂·(1−p̂)) over the
// m looks with requests and p̂ = Σk/Σn, taken as 1 unless X² exceeds the 95th percentile of χ² with
// m−1 degrees of freedom (Wilson–Hilferty's approximation), so that independent requests, whose
// X²/(m−1) scatters around 1, do not lose power to noise (the quasi-binomial scale parameter: D. F. Williams,
// "Extra-binomial variation in logistic linear models", Appl. Statist. 31(2):144–148, 1982;
// McCullagh and Nelder, "Generalized Linear Models", 2nd ed., 1989, §4.5). Independent requests
// give φ near 1; errors that come in bursts (one pod's hiccup failing a tenth of one interval's
// requests) give φ of tens to hundreds. A version with bad requests in a share of 0 or 1, or with
// fewer than two looks with requests, has φ = 1 (nothing to estimate from).
//
// Its use (Judge): a version's counts are weighed as k/φ bad of n/φ requests, the effective sample
// size of clustered binary data (J. N. K. Rao and A. J. Scott, "A simple method for the analysis of
// clustered binary data", Biometrics 48(2):577–585, 1992: divide both counts by the design effect),
// so the confidence sequence widens by about √φ.
func Dispersion(looks []Count) float64 {
	var k, n float64
	m := 0
	for _, l := range looks {
		if l.Of > 0 {
			k += float64(min(max(l.Bad, 0), l.Of))
			n += float64(l.Of)
			m++
		}
	}
	if m < 2 || k <= 0 || k >= n {
		return 1
	}
	p := k / n
	var x2 float64
	for _, l := range looks {
		if l.Of > 0 {
			e := float64(l.Of) * p
			d := float64(min(max(l.Bad, 0), l.Of)) - e
			x2 += d * d / (e * (1 - p))
		}
	}
	df := float64(m - 1)
	if x2 <= df*math.Pow(1-2/(9*df)+1.6449*math.Sqrt(2/(9*df)), 3) {
		return 1
	}
	return math.Max(1, x2/df)
}

// withRequests is how many looks had requests.
func withRequests(looks []Count) int {
	m := 0
	for _, l := range looks {
		if l.Of > 0 {
			m++
		}
	}
	return m
}

// Looks turns cumulative counts, one per look of a growing window, into each look's increment (the
// first look's is its count). A count that shrank (a series dropped between looks) gives 0 for that
// look, never a negative count.
func Looks(cumulative []Count) []Count {
	out := make([]Count, len(cumulative))
	var prev Count
	for i, c := range cumulative {
		of, bad := max(c.Of-prev.Of, 0), max(c.Bad-prev.Bad, 0)
		out[i] = Count{Bad: min(bad, of), Of: of}
		prev = Count{Bad: max(prev.Bad, c.Bad), Of: max(prev.Of, c.Of)}
	}
	return out
}
