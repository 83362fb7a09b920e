package loadtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseExpect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []Expectation
		wantErr string
	}{
		{"documented", "New Model A=50,New Model B=50", []Expectation{{"New Model A", 0.5}, {"New Model B", 0.5}}, ""},
		{"relative weights", "A=1, B=3", []Expectation{{"A", 0.25}, {"B", 0.75}}, ""},
		{"zero weight", "A=100,B=0", []Expectation{{"A", 1}, {"B", 0}}, ""},
		{"answer with =", "x=y=1", []Expectation{{"x=y", 1}}, ""},
		{"no weight", "A", nil, `item "A" has no =WEIGHT`},
		{"no answer", "=5", nil, `item "=5" has no answer before =`},
		{"negative", "A=-1,B=2", nil, `weight of "A" is not a non-negative number`},
		{"not a number", "A=half", nil, `weight of "A" is not a non-negative number`},
		{"twice", "A=1,A=2", nil, `answer "A" is listed twice`},
		{"all zero", "A=0,B=0", nil, "the weights add up to 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseExpect(tc.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr {
				t.Fatalf("error %q, want %q", gotErr, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// tallyOf builds a tally with the given answer counts (raw JSON string bodies).
func tallyOf(counts map[string]int) *Tally {
	t := &Tally{}
	for _, a := range []string{"New Model A", "New Model B", "Other"} {
		for range counts[a] {
			t.addAnswer([]byte(`"` + a + `"`))
		}
	}
	return t
}

func TestCompare(t *testing.T) {
	t.Parallel()
	half := []Expectation{{"New Model A", 0.5}, {"New Model B", 0.5}}
	tests := []struct {
		name       string
		counts     map[string]int
		want       []Expectation
		verdict    Verdict
		perAnswer  []Verdict
		wantNeeded bool
	}{
		{"even split agrees", map[string]int{"New Model A": 1600, "New Model B": 1552}, half,
			Agree, []Verdict{Agree, Agree}, false},
		{"90/10 against 50/50 disagrees", map[string]int{"New Model A": 900, "New Model B": 100}, half,
			Disagree, []Verdict{Disagree, Disagree}, false},
		{"too few to decide", map[string]int{"New Model A": 10, "New Model B": 10}, half,
			Undecided, []Verdict{Undecided, Undecided}, true},
		{"unexpected answer is expected at 0%", map[string]int{"New Model A": 300, "Other": 300},
			[]Expectation{{"New Model A", 1}}, Disagree, []Verdict{Disagree, Disagree}, false},
		{"all on one answer agrees with 100/0", map[string]int{"New Model A": 400},
			[]Expectation{{"New Model A", 1}, {"New Model B", 0}}, Agree, []Verdict{Agree, Agree}, false},
		{"no answers at all", map[string]int{}, half, Undecided, []Verdict{Undecided, Undecided}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Compare(tallyOf(tc.counts), tc.want, 0.99, 0.05)
			var per []Verdict
			for _, ch := range c.Checks {
				per = append(per, ch.Verdict)
			}
			if diff := cmp.Diff(tc.perAnswer, per); diff != "" {
				t.Errorf("per-answer verdicts (-want +got)\n%s", diff)
			}
			if c.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s", c.Verdict, tc.verdict)
			}
			if got := c.Needed > c.N; got != tc.wantNeeded {
				t.Errorf("Needed = %d with n = %d; want more than n: %v", c.Needed, c.N, tc.wantNeeded)
			}
		})
	}
}

// TestCompareNeededDecides checks that the advertised sample size is enough: the same 50/50
// proportions, scaled up to Needed responses, reach a decision.
func TestCompareNeededDecides(t *testing.T) {
	t.Parallel()
	half := []Expectation{{"New Model A", 0.5}, {"New Model B", 0.5}}
	small := Compare(tallyOf(map[string]int{"New Model A": 60, "New Model B": 40}), half, 0.99, 0.05)
	if small.Verdict != Undecided {
		t.Fatalf("60/40 of 100: verdict %s, want undecided", small.Verdict)
	}
	n := small.Needed
	big := Compare(tallyOf(map[string]int{"New Model A": n * 6 / 10, "New Model B": n - n*6/10}), half, 0.99, 0.05)
	if big.Verdict == Undecided {
		t.Errorf("60/40 of the advertised %d: still undecided", n)
	}
}
