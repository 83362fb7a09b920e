package analysis

import (
	"math"
	"strings"
	"testing"
)

// TestDispersion: independent-looking looks give 1; one burst among quiet looks gives its Pearson
// X²/(m−1), computed here by hand; too few looks, or no bad requests, give 1.
func TestDispersion(t *testing.T) {
	// Three looks of 1200: 120, 0, 0 bad. p̂ = 120/3600 = 1/30; expected 40 each, variance
	// 1200·(1/30)·(29/30) = 38.667; X² = (80² + 40² + 40²)/38.667 = 248.28; φ = X²/2 = 124.14.
	if got := Dispersion([]Count{{120, 1200}, {0, 1200}, {0, 1200}}); math.Abs(got-124.138) > 0.01 {
		t.Errorf("one burst: φ %.3f, want 124.138", got)
	}
	for _, c := range []struct {
		name  string
		looks []Count
	}{
		{"even", []Count{{12, 1200}, {12, 1200}, {13, 1200}, {11, 1200}}},
		{"one look", []Count{{120, 1200}}},
		{"no bad", []Count{{0, 1200}, {0, 1200}}},
		{"none", nil},
		{"looks without requests", []Count{{0, 0}, {5, 100}, {0, 0}}},
	} {
		if got := Dispersion(c.looks); got != 1 {
			t.Errorf("%s: φ %.3f, want 1", c.name, got)
		}
	}
}

// TestLooksFromCumulative: increments from cumulative counts, never negative.
func TestLooksFromCumulative(t *testing.T) {
	got := Looks([]Count{{1, 100}, {3, 250}, {2, 240}, {6, 400}})
	want := []Count{{1, 100}, {2, 150}, {0, 0}, {3, 150}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("look %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestFewLooksUndecided: a difference that would be decided is undecided while a version has fewer
// than MinLooks looks with requests, and its reason says why; with per-look counts absent the
// requests are taken as independent, as before.
func TestFewLooksUndecided(t *testing.T) {
	s := Share{Name: "errors", Blue: Count{Bad: 120, Of: 1200}, Green: Count{Bad: 0, Of: 1200}, Margin: 0.01,
		BlueLooks: []Count{{120, 1200}}, GreenLooks: []Count{{0, 1200}}}
	d := Judge([]Share{s}, 0.99)
	if d.Verdict != Undecided || !d.Shares[0].FewLooks {
		t.Fatalf("one look: %s", d.Verdict)
	}
	if r := d.Shares[0].Reason(); !strings.Contains(r, "at least 3 looks") {
		t.Errorf("reason: %s", r)
	}
	s.BlueLooks, s.GreenLooks = nil, nil
	if d := Judge([]Share{s}, 0.99); d.Verdict != Degraded {
		t.Errorf("without per-look counts: %s", d.Verdict)
	}
}

// TestClusteredReason: a version whose bad requests came in bursts says so in the share's reason,
// with the factor its counts were weighed by.
func TestClusteredReason(t *testing.T) {
	looks := []Count{{120, 1200}, {0, 1200}, {0, 1200}, {0, 1200}}
	even := []Count{{1, 1200}, {1, 1200}, {1, 1200}, {1, 1200}}
	d := Judge([]Share{{Name: "errors", Blue: Count{Bad: 120, Of: 4800}, Green: Count{Bad: 4, Of: 4800}, Margin: 0.01,
		BlueLooks: looks, GreenLooks: even}}, 0.99)
	r := d.Shares[0]
	if r.GreenDispersion != 1 || r.BlueDispersion < 100 || d.Verdict != Undecided {
		t.Fatalf("%s, φ blue %.1f green %.1f", d.Verdict, r.BlueDispersion, r.GreenDispersion)
	}
	if want := "(blue's clustered in time: its counts weighed as"; !strings.Contains(r.Reason(), want) {
		t.Errorf("reason %q lacks %q", r.Reason(), want)
	}
}
