package analysis

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/golden"
)

// errorsAndSlow is the usual pair of shares with the default margins of 1 point.
func errorsAndSlow(blueErr, green Count, blueSlow, greenSlow Count) []Share {
	return []Share{
		{Name: "errors", Blue: blueErr, Green: green, Margin: 0.01},
		{Name: "slow", Blue: blueSlow, Green: greenSlow, Margin: 0.01},
	}
}

var judgeCases = []struct {
	name   string
	shares []Share
	want   Verdict
}{
	{"equal versions, enough traffic", errorsAndSlow(Count{100, 40000}, Count{100, 40000}, Count{400, 40000}, Count{400, 40000}), Agrees},
	{"blue better than green", errorsAndSlow(Count{10, 20000}, Count{300, 20000}, Count{100, 20000}, Count{100, 20000}), Agrees},
	{"blue +5 points of errors", errorsAndSlow(Count{600, 10000}, Count{100, 10000}, Count{100, 10000}, Count{100, 10000}), Degraded},
	{"blue slower: +10 points over the SLO", errorsAndSlow(Count{10, 5000}, Count{10, 5000}, Count{750, 5000}, Count{250, 5000}), Degraded},
	{"degraded on one share, undecided on the other", errorsAndSlow(Count{600, 10000}, Count{100, 10000}, Count{5, 100}, Count{5, 100}), Degraded},
	{"too few requests", errorsAndSlow(Count{50, 1000}, Count{10, 1000}, Count{20, 1000}, Count{20, 1000}), Undecided},
	{"no traffic at all", errorsAndSlow(Count{}, Count{}, Count{}, Count{}), Undecided},
	{"traffic to green only", errorsAndSlow(Count{}, Count{20, 2000}, Count{}, Count{20, 2000}), Undecided},
	{"difference exactly on the margin", []Share{{Name: "errors", Blue: Count{20, 1000}, Green: Count{10, 1000}, Margin: 0.01}}, Undecided},
	{"zero margin, equal shares", []Share{{Name: "errors", Blue: Count{10, 1000}, Green: Count{10, 1000}, Margin: 0}}, Undecided},
}

// TestJudge: each case's verdict, and its reasons as golden text (testdata/judge.golden). The
// intervals in the golden file come from Sequence, itself checked against a reference computation
// (sequence_test.go); TestJudgeSplitsAlpha checks the Bonferroni split that gives each its alpha.
func TestJudge(t *testing.T) {
	var b strings.Builder
	for _, c := range judgeCases {
		d := Judge(c.shares, 0.99)
		if d.Verdict != c.want {
			t.Errorf("%s: verdict %s, want %s", c.name, d.Verdict, c.want)
		}
		fmt.Fprintf(&b, "%s: %s, needed %d\n", c.name, d.Verdict, d.Needed)
		for _, r := range d.Shares {
			fmt.Fprintf(&b, "  %s\n", r.Reason())
		}
	}
	golden.Assert(t, "judge.golden", b.String())
}

// TestJudgeSplitsAlpha: 1 − confidence is split over 2 intervals per share: alpha 0.005 each for one
// share at 0.99, 0.0025 for two.
func TestJudgeSplitsAlpha(t *testing.T) {
	blue, green := Count{30, 2000}, Count{20, 2000}
	one := Judge([]Share{{Name: "errors", Blue: blue, Green: green, Margin: 0.01}}, 0.99).Shares[0]
	if want := Difference(Sequence(blue, 0.005), Sequence(green, 0.005)); !near(one.DifferenceInterval, want) {
		t.Errorf("one share: %+v, want %+v", one.DifferenceInterval, want)
	}
	two := Judge([]Share{{Name: "errors", Blue: blue, Green: green, Margin: 0.01}, {Name: "slow", Blue: blue, Green: green, Margin: 0.01}}, 0.99).Shares[1]
	if want := Difference(Sequence(blue, 0.0025), Sequence(green, 0.0025)); !near(two.DifferenceInterval, want) {
		t.Errorf("two shares: %+v, want %+v", two.DifferenceInterval, want)
	}
}

// near compares intervals to 1e-12: (1-0.99)/4 is not 0.0025 to the last bit.
func near(a, b Interval) bool {
	return math.Abs(a.Low-b.Low) < 1e-12 && math.Abs(a.High-b.High) < 1e-12
}

// TestNeeded: for every undecided share with a number, the counts NeededAssumption describes after
// Needed more requests decide it and those after Needed−1 do not. The counts are computed here from
// the assumption's words, independently of needed's code.
func TestNeeded(t *testing.T) {
	for _, c := range judgeCases {
		d := Judge(c.shares, 0.99)
		alpha := (1 - 0.99) / float64(2*len(c.shares))
		for i, r := range d.Shares {
			if r.Verdict != Undecided || r.Needed < 0 {
				continue
			}
			s := c.shares[i]
			after := func(more int64) Verdict {
				pb, pg, split := s.Blue.Share(), s.Green.Share(), 0.5
				if s.Blue.Of == 0 {
					pb = pg
				}
				if s.Green.Of == 0 {
					pg = pb
				}
				if s.Blue.Of > 0 && s.Green.Of > 0 {
					split = float64(s.Blue.Of) / float64(s.Blue.Of+s.Green.Of)
				}
				nb := int64(math.Round(split * float64(more)))
				ng := more - nb
				blue := Count{s.Blue.Bad + int64(math.Round(pb*float64(nb))), s.Blue.Of + nb}
				green := Count{s.Green.Bad + int64(math.Round(pg*float64(ng))), s.Green.Of + ng}
				return classify(Difference(Sequence(blue, alpha), Sequence(green, alpha)), s.Margin)
			}
			if v := after(r.Needed); v == Undecided {
				t.Errorf("%s/%s: still undecided after the %d more requests it said would decide it", c.name, r.Name, r.Needed)
			}
			if v := after(r.Needed - 1); v != Undecided {
				t.Errorf("%s/%s: already %s after %d more requests, one fewer than it said", c.name, r.Name, v, r.Needed-1)
			}
		}
	}
}

// TestNeededOnTheMargin: a difference that sits on the margin is never decided, and says so (-1)
// instead of naming a number.
func TestNeededOnTheMargin(t *testing.T) {
	d := Judge([]Share{{Name: "errors", Blue: Count{20, 1000}, Green: Count{10, 1000}, Margin: 0.01}}, 0.99)
	if d.Needed != -1 || d.Shares[0].Needed != -1 {
		t.Errorf("needed %d / %d, want -1", d.Needed, d.Shares[0].Needed)
	}
}
