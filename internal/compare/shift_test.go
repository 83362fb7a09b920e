package compare

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/scoringmock"
)

// TestQKS: the Kolmogorov distribution's complement at the critical values tabulated for the
// two-sided test (α = 0.10, 0.05, 0.01, 0.001 at λ = 1.224, 1.358, 1.628, 1.949; e.g. Smirnov 1948,
// Table 1), and its ends.
func TestQKS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lambda, want, tol float64 }{
		{1.224, 0.10, 0.001}, {1.358, 0.05, 0.0005}, {1.628, 0.01, 0.0002}, {1.949, 0.001, 0.00003},
		{0, 1, 0}, {0.1, 1, 0}, {10, 0, 1e-40},
	} {
		if got := qKS(tc.lambda); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("qKS(%g) = %g, want %g ± %g", tc.lambda, got, tc.want, tc.tol)
		}
	}
}

// TestSketchOrder: buckets follow the order of values, over signs, zero, tiny and huge values.
func TestSketchOrder(t *testing.T) {
	t.Parallel()
	vals := []float64{math.Inf(-1), -1e300, -1e11, -3, -1, -0.5001, -0.5, -1e-12, 0, 1e-12, 1e-9, 1e-3, 0.5, 0.5001, 1, 2, 1e10, 1e300, math.Inf(1)}
	prev := -1
	for _, v := range vals {
		b := sketchBucket(v)
		if b < prev || b < 0 || b > 2*sketchSide {
			t.Errorf("bucket(%g) = %d after %d", v, b, prev)
		}
		prev = b
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		a, b := r.NormFloat64()*math.Pow(10, float64(r.IntN(20)-10)), r.NormFloat64()
		if a > b {
			a, b = b, a
		}
		if sketchBucket(a) > sketchBucket(b) {
			t.Fatalf("bucket(%g) = %d > bucket(%g) = %d", a, sketchBucket(a), b, sketchBucket(b))
		}
	}
	var s Sketch
	s.Add(math.NaN())
	if s.Count() != 0 {
		t.Error("NaN was counted")
	}
}

// exactD is the two-sample KS statistic computed from the raw samples.
func exactD(a, b []float64) float64 {
	a, b = append([]float64(nil), a...), append([]float64(nil), b...)
	sort.Float64s(a)
	sort.Float64s(b)
	d, i, j := 0.0, 0, 0
	for i < len(a) && j < len(b) {
		x := math.Min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d
}

// TestKolmogorovSmirnov: known cases, and the sketch's D against the one computed from the raw
// samples (within the bucket resolution).
func TestKolmogorovSmirnov(t *testing.T) {
	t.Parallel()
	sketch := func(xs []float64) *Sketch {
		var s Sketch
		for _, x := range xs {
			s.Add(x)
		}
		return &s
	}
	grid := func(n int, shift float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = float64(i)/float64(n) + shift
		}
		return out
	}
	same := KolmogorovSmirnov(sketch(grid(1000, 0)), sketch(grid(1000, 0)))
	if same.D != 0 || same.P != 1 || same.Green != 1000 || same.Blue != 1000 {
		t.Errorf("identical samples: %+v, want D 0, p 1", same)
	}
	apart := KolmogorovSmirnov(sketch([]float64{1, 2, 3}), sketch([]float64{4, 5, 6}))
	if apart.D != 1 {
		t.Errorf("disjoint samples: D = %g, want 1", apart.D)
	}
	if empty := KolmogorovSmirnov(&Sketch{}, sketch([]float64{1})); empty.D != 0 || empty.P != 1 {
		t.Errorf("an empty sample: %+v", empty)
	}
	// Uniform on [0,1) against the same shifted by 0.1: D = 0.1; with n = m = 1000 the p-value is
	// Q_KS((√500 + 0.12 + 0.11/√500)·0.1) ≈ 8.1e-5, far below any usual level.
	shifted := KolmogorovSmirnov(sketch(grid(1000, 0)), sketch(grid(1000, 0.1)))
	if math.Abs(shifted.D-0.1) > 0.005 || shifted.P > 1e-4 || shifted.P < 5e-5 {
		t.Errorf("shifted by 0.1: %+v, want D ≈ 0.1 and p ≈ 8e-5", shifted)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		a, b := make([]float64, 2000), make([]float64, 1500)
		mu := r.Float64() * 0.3
		for i := range a {
			a[i] = r.NormFloat64()
		}
		for i := range b {
			b[i] = r.NormFloat64() + mu
		}
		got, want := KolmogorovSmirnov(sketch(a), sketch(b)).D, exactD(a, b)
		if math.Abs(got-want) > 0.01 {
			t.Errorf("shift %.3f: sketch D %.4f, exact D %.4f", mu, got, want)
		}
	}
}

// TestShiftOfLargeMagnitudes (second #11 break-it review, D11): the sketches cover float64's whole
// range, so a model answering epoch milliseconds (1.7e12) whose blue doubles every output is a shift
// (D near 1), as are outputs near 1e300, -1e200 or 1e-300 scaled by 1.2; identical outputs at those magnitudes are not.
func TestShiftOfLargeMagnitudes(t *testing.T) {
	t.Parallel()
	handler := func(factor float64) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var u, v float64
			_, _ = fmt.Sscanf(string(b), "[%g, %g]", &u, &v)
			_, _ = fmt.Fprintf(w, `{"eta_ms": %d}`, int64(factor*(1.7e12+1e9*(u+10*v))))
		})
	}
	o := options(routed(t, handler(1), handler(2), "/score"))
	o.Tolerance = Tolerance{Rel: 0.6} // the verdict is not the point
	r := run(t, grid(500), o)
	if r.Shift == nil || r.Compared != 500 {
		t.Fatalf("setup: %d compared, shift %+v", r.Compared, r.Shift)
	}
	if r.Shift.D < 0.9 || r.Shift.P > 0.01 {
		t.Errorf("every blue output is twice green's, yet the shift test says D = %g, p = %g%s", r.Shift.D, r.Shift.P, shiftNote(r.Shift.P))
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		scale, factor float64
		shifted       bool
	}{{1.7e12, 2, true}, {1e300, 1.2, true}, {-1e200, 1.2, true}, {1e-300, 1.2, true}, {1.7e12, 1, false}, {1e300, 1, false}} {
		var g, b Sketch
		var gs, bs []float64
		for range 2000 {
			x := tc.scale * (1 + rnd.Float64())
			gs, bs = append(gs, x), append(bs, x*tc.factor)
			g.Add(x)
			b.Add(x * tc.factor)
		}
		ks := KolmogorovSmirnov(&g, &b)
		if want := exactD(gs, bs); math.Abs(ks.D-want) > 0.02 || (ks.P < 0.01) != tc.shifted {
			t.Errorf("scale %g × %g: D = %g (exact %g), p = %g; shifted %v", tc.scale, tc.factor, ks.D, want, ks.P, tc.shifted)
		}
	}
}

// TestShiftFieldOutsideFieldIsBadInput (second #11 break-it review, D10): --shift-field names a value
// that is compared, or it is refused before anything is sent (exit 2) naming the flag and the
// --field selection: only selected values are walked, so a shift outside them is never computed.
func TestShiftFieldOutsideFieldIsBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fields []string
		shift  string
		ok     bool
	}{
		{[]string{"label"}, "score", false},
		{[]string{"label", "$.predictions[0]"}, "predictions[1].score", false},
		{[]string{"scores"}, "scoresx", false},
		{nil, "score", true},
		{[]string{"label", "score"}, "$.score", true},
		{[]string{"predictions"}, "predictions[0].score", true},
		{[]string{"$.predictions[0]"}, "predictions[0].score", true},
		{[]string{"$"}, "anything", true},
	} {
		in := NewInputs()
		in.Gateway, in.Requests, in.Fields, in.ShiftField = "127.0.0.1", "r.jsonl", tc.fields, tc.shift
		_, err := in.Options()
		if (err == nil) != tc.ok || (err != nil && (!strings.Contains(err.Error(), "shift-field") || !strings.Contains(err.Error(), "inside a --field"))) {
			t.Errorf("--field %v --shift-field %s: %v, want accepted %v", tc.fields, tc.shift, err, tc.ok)
		}
	}
}

// TestShiftFieldNoAnswerHasIsSaid (second #11 break-it review, D10): a --shift-field that no compared
// answer has as a number (a typo, `scor`; or a label) is named in the report, Markdown and -o json,
// instead of the shift silently missing, which reads as "no shift".
func TestShiftFieldNoAnswerHasIsSaid(t *testing.T) {
	t.Parallel()
	gw := gateway(t, scoringmock.Options{Model: model(0.5, 0.5123, 0)}, scoringmock.Options{Model: model(0.7, 0.5123, 0)})
	for _, shift := range []string{"scor", "label"} {
		o := options(gw)
		o.ShiftField, o.MaxDisagreement = shift, 0.5
		r := run(t, grid(300), o)
		var js bytes.Buffer
		if err := WriteJSON(&js, r); err != nil {
			t.Fatal(err)
		}
		want := "no shift of " + shift + " was computed"
		if r.Shift != nil || !strings.Contains(Markdown(r), want) || !strings.Contains(js.String(), `"shiftMissing": "`+want) {
			t.Errorf("--shift-field %s: shift %+v, report:\n%s\n%s", shift, r.Shift, Markdown(r), js.String())
		}
	}
	o := options(gw)
	o.ShiftField, o.MaxDisagreement = "score", 0.5
	if r := run(t, grid(300), o); r.Shift == nil || r.ShiftMissing != "" {
		t.Errorf("--shift-field score: shift %+v, missing %q", r.Shift, r.ShiftMissing)
	}
}
