package loadtest

import (
	"fmt"
	"math"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Expectation is one answer's expected share of the successful responses.
type Expectation struct {
	Answer string  `json:"answer"`
	Share  float64 `json:"share"` // 0..1
}

// ParseExpect reads "New Model A=50,New Model B=50" into shares that sum to 1. Weights are
// non-negative numbers relative to their sum, so "A=1,B=3" means 25% and 75%. The last "=" in an
// item separates the answer from its weight, so an answer may itself contain "=".
func ParseExpect(s string) ([]Expectation, error) {
	var out []Expectation
	var sum float64
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		i := strings.LastIndex(item, "=")
		if i < 0 {
			return nil, fmt.Errorf("item %q has no =WEIGHT", strings.TrimSpace(item))
		}
		answer := strings.TrimSpace(item[:i])
		w, ok := config.ParseDecimal(item[i+1:])
		switch {
		case answer == "":
			return nil, fmt.Errorf("item %q has no answer before =", strings.TrimSpace(item))
		case !ok || w < 0:
			return nil, fmt.Errorf("weight of %q is not a non-negative number", answer)
		case seen[answer]:
			return nil, fmt.Errorf("answer %q is listed twice", answer)
		}
		seen[answer] = true
		sum += w
		out = append(out, Expectation{Answer: answer, Share: w})
	}
	switch {
	case sum <= 0:
		return nil, fmt.Errorf("the weights add up to 0")
	case math.IsInf(sum, 0): // each weight finite, their sum not: every share would be 0
		return nil, fmt.Errorf("the weights add up to more than a float64 holds")
	}
	for i := range out {
		out[i].Share /= sum
	}
	return out, nil
}

// Verdict is the outcome of comparing observed shares with expected ones.
type Verdict string

// The three outcomes of a comparison. Undecided is not a pass: it says more requests are needed.
const (
	Agree     Verdict = "agree"
	Disagree  Verdict = "disagree"
	Undecided Verdict = "undecided"
)

// Check compares one answer's observed share with its expected share.
type Check struct {
	Answer   string   `json:"answer"`
	Expected float64  `json:"expected"`
	Count    int      `json:"count"`
	Observed float64  `json:"observed"`
	Interval Interval `json:"interval"`
	Verdict  Verdict  `json:"verdict"`
}

// Off is how far the observed share is from the expected one (observed - expected).
func (c Check) Off() float64 { return c.Observed - c.Expected }

// Comparison is the outcome of checking a tally against expectations.
type Comparison struct {
	// Confidence is the joint confidence of all intervals; Tolerance is how far (as a fraction) a
	// share may be from its expectation and still agree.
	Confidence float64 `json:"confidence"`
	Tolerance  float64 `json:"tolerance"`
	// N is the number of successful responses the shares are taken from.
	N       int     `json:"n"`
	Checks  []Check `json:"checks"`
	Verdict Verdict `json:"verdict"`
	// Needed estimates how many successful responses would decide an undecided comparison.
	Needed int `json:"needed,omitempty"`
}

// Compare checks the answers in t against want. It is an equivalence test: a share agrees when its
// whole Wilson interval lies within ±tolerance of the expectation, disagrees when the interval lies
// wholly outside that band, and is undecided otherwise (too few requests to tell). Answers seen but
// not listed are expected at 0%. Intervals are Bonferroni-corrected so all checks hold jointly at
// confidence.
func Compare(t *Tally, want []Expectation, confidence, tolerance float64) Comparison {
	want = withUnlisted(t, want)
	n := t.Answered()
	z := Z(confidence, len(want))
	c := Comparison{Confidence: confidence, Tolerance: tolerance, N: n, Verdict: Agree}
	for _, w := range want {
		k := t.Count(w.Answer)
		ch := Check{Answer: w.Answer, Expected: w.Share, Count: k, Interval: Wilson(k, n, z)}
		if n > 0 {
			ch.Observed = float64(k) / float64(n)
		}
		lo, hi := w.Share-tolerance, w.Share+tolerance
		switch {
		case ch.Interval.Low >= lo && ch.Interval.High <= hi:
			ch.Verdict = Agree
		case ch.Interval.High < lo || ch.Interval.Low > hi:
			ch.Verdict = Disagree
		default:
			ch.Verdict = Undecided
			c.Needed = max(c.Needed, needed(ch, n, z, tolerance))
		}
		c.Checks = append(c.Checks, ch)
		c.Verdict = worse(c.Verdict, ch.Verdict)
	}
	if c.Verdict != Undecided {
		c.Needed = 0
	}
	return c
}

// withUnlisted appends an expectation of 0 for every observed answer want does not list.
func withUnlisted(t *Tally, want []Expectation) []Expectation {
	listed := map[string]bool{}
	for _, w := range want {
		listed[w.Answer] = true
	}
	out := append([]Expectation(nil), want...)
	for _, a := range t.Answers {
		if !listed[a.Answer] {
			out = append(out, Expectation{Answer: a.Answer})
		}
	}
	return out
}

// worse orders verdicts Disagree > Undecided > Agree.
func worse(a, b Verdict) Verdict {
	rank := map[Verdict]int{Agree: 0, Undecided: 1, Disagree: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// needed estimates the number of successful responses at which the interval around the observed
// share would fall wholly inside or wholly outside the tolerance band: the normal approximation's
// estimate with a 25% margin, then grown until the Wilson interval at that share (the one Compare
// uses) decides. It is always more than n, the responses that were not enough: advice to send
// fewer than were sent would change nothing.
func needed(c Check, n int, z, tolerance float64) int {
	gap := math.Abs(math.Abs(c.Off()) - tolerance)
	v := math.Max(c.Observed*(1-c.Observed), 0.01)
	gap = math.Max(gap, 0.005)
	m := max(int(math.Ceil(1.25*z*z*v/(gap*gap))), n+1)
	lo, hi := c.Expected-tolerance, c.Expected+tolerance
	for range 64 {
		iv := Wilson(int(math.Round(c.Observed*float64(m))), m, z)
		if (iv.Low >= lo && iv.High <= hi) || iv.High < lo || iv.Low > hi {
			break
		}
		m += max(m/4, 1)
	}
	return m
}

// Describe is the check as one sentence, e.g. `"New Model A" is 90.1% of answers, expected 50.0%
// (off by +40.1 points)`: how loadtest and verify name a share that is off.
func (c Check) Describe() string {
	return fmt.Sprintf("%q is %.1f%% of answers, expected %.1f%% (off by %+.1f points)",
		c.Answer, 100*c.Observed, 100*c.Expected, 100*c.Off())
}

// Worst is the disagreeing check furthest from its expectation (the zero Check when none disagrees).
func (c Comparison) Worst() Check {
	var worst Check
	for _, ch := range c.Checks {
		if ch.Verdict == Disagree && math.Abs(ch.Off()) > math.Abs(worst.Off()) {
			worst = ch
		}
	}
	return worst
}
