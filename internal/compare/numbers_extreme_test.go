package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
)

// TestNumbersBeyondFloat64: a number beyond float64's range (an integer of 10^331, as Python's
// json.dumps writes any int; 1e400) is compared exactly, never as ±Inf: equal ones differ by 0 (not
// Inf − Inf = NaN), different ones disagree under an exact comparison, and a relative tolerance is
// relative to the real magnitude, not to an infinite float (1e400 vs 1e300 never agree).
func TestNumbersBeyondFloat64(t *testing.T) {
	t.Parallel()
	huge := "1" + strings.Repeat("0", 331)
	for _, c := range []struct {
		green, blue string
		tol         Tolerance
		agree       bool
		diff        float64 // -1: +Inf
	}{
		{huge, huge, Tolerance{}, true, 0},
		{huge, huge[:len(huge)-1] + "1", Tolerance{}, false, 1},
		{huge, huge[:len(huge)-1] + "1", Tolerance{Rel: 1e-9}, true, 1},
		{huge, "-" + huge, Tolerance{Rel: 1e-9}, false, -1},
		{"1e400", "1e400", Tolerance{}, true, 0},
		{"1e400", "1e300", Tolerance{Rel: 1e-9}, false, -1},
		{"1e400", "1.0000000001e400", Tolerance{Rel: 1e-9}, true, -1},
		{"1e400", "1.01e400", Tolerance{Rel: 1e-9}, false, -1},
		{"1e99999999999", "1e99999999999", Tolerance{}, true, 0},
		{"1e99999999999", "2e99999999999", Tolerance{}, false, -1},
		{"9007199254740993", "9007199254740992", Tolerance{}, false, 1},
	} {
		_, _, diff, in := numbers(json.Number(c.green), json.Number(c.blue), c.tol)
		want := c.diff
		if want < 0 {
			want = math.Inf(1)
		}
		short := func(s string) string { return s[:min(len(s), 16)] }
		if in != c.agree || diff != want || math.IsNaN(diff) {
			t.Errorf("%s… vs %s… under %+v: within %v, diff %g; want %v, %g", short(c.green), short(c.blue), c.tol, in, diff, c.agree, want)
		}
	}
}

// TestFieldStatsAgreeWithTheVerdict (second #11 break-it review, D12): integers above 2^53 are
// compared exactly (C3), and each field's statistics use the same exact difference: 2^53+1 vs 2^53
// outside an exact comparison in 20 of 20 pairs is a max and mean difference of 1, not 0.
func TestFieldStatsAgreeWithTheVerdict(t *testing.T) {
	t.Parallel()
	o := options(routed(t, answers(`{"bucket":9007199254740993}`), answers(`{"bucket":9007199254740992}`), "/score"))
	o.Tolerance = Tolerance{}
	r := run(t, grid(20), o)
	if r.Agreed != 0 || len(r.Fields) != 1 {
		t.Fatalf("setup: %d agreed, fields %+v", r.Agreed, r.Fields)
	}
	if f := r.Fields[0]; f.Outside != 20 || f.MaxDifference != 1 || f.MeanAbsDifference != 1 {
		t.Errorf("bucket: %d of %d outside the tolerance, max difference %g, mean %g; want 20, 1 and 1", f.Outside, f.N, f.MaxDifference, f.MeanAbsDifference)
	}
}

// TestReportOfHugeNumbersEncodes (second #11 break-it review, D13): answers holding numbers beyond
// float64 — equal (a 2048-bit fingerprint) or not (1e400 vs 2e400) — never make -o json fail on NaN
// or Inf: the verdict is the exact comparison's and a difference beyond float64 reads as the
// largest float64.
func TestReportOfHugeNumbersEncodes(t *testing.T) {
	t.Parallel()
	huge := "1" + strings.Repeat("0", 331)
	for _, c := range []struct {
		green, blue string
		agreed      int
	}{
		{fmt.Sprintf(`{"label":"approve","fingerprint":%s}`, huge), fmt.Sprintf(`{"label":"approve","fingerprint":%s}`, huge), 20},
		{`{"label":"approve","amount":1e400}`, `{"label":"approve","amount":2e400}`, 0},
		{`{"label":"approve","amount":1e400}`, `{"label":"approve","amount":-1e400}`, 0},
	} {
		r := run(t, grid(20), options(routed(t, answers(c.green), answers(c.blue), "/score")))
		if r.Agreed != c.agreed {
			t.Errorf("%s vs %s: %d agreed, want %d: %s", c.green[:30], c.blue[:30], r.Agreed, c.agreed, r.Reason)
		}
		if err := WriteJSON(io.Discard, r); err != nil {
			t.Errorf("%s vs %s: -o json fails: %v (fields %+v)", c.green[:30], c.blue[:30], err, r.Fields)
		}
		_ = Markdown(r)
	}
}
