package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
)

// Tolerance is how far two numbers may be apart and still agree, the rule of Python's
// math.isclose (PEP 485): |a−b| ≤ max(Rel·max(|a|, |b|), Abs). Abs and Rel are 0 or more; both 0
// means exactly equal.
type Tolerance struct {
	Abs float64 `json:"abs"`
	Rel float64 `json:"rel"`
}

// Within reports whether a and b agree under t.
func (t Tolerance) Within(a, b float64) bool {
	return t.within(a, b, math.Abs(a-b))
}

// within is Within with |a−b| given, as numbers computes it exactly for integers.
func (t Tolerance) within(a, b, diff float64) bool {
	return diff <= math.Max(t.Rel*math.Max(math.Abs(a), math.Abs(b)), t.Abs)
}

// numbers reads two JSON numbers as float64 and their absolute difference, and whether they agree
// under tol. When both are written as integers (no fraction or exponent) the difference is computed
// exactly on the integers, so 9007199254740993 and 9007199254740992 (2^53 + 1 and 2^53, the same
// float64) differ by 1 and an exact comparison (both tolerances 0) tells them apart; 1 and 1.0 are
// compared as floats, equal. A number beyond float64's range (an integer of 10^331, 1e400: JSON
// sets no limit and Python writes any int) is compared exactly as a big number, never as ±Inf, so
// two equal ones differ by 0 (not Inf − Inf = NaN) and a tolerance relative to an infinite float
// never makes different ones agree; its float and a difference beyond float64 are ±Inf.
func numbers(g, b json.Number, tol Tolerance) (gf, bf, diff float64, within bool) {
	gf, errG := strconv.ParseFloat(string(g), 64) // decoded JSON numbers parse; out of range is ±Inf
	bf, errB := strconv.ParseFloat(string(b), 64)
	finite := errG == nil && errB == nil
	var gb, bb, d *big.Float
	gi, okG := new(big.Int).SetString(string(g), 10)
	bi, okB := new(big.Int).SetString(string(b), 10)
	switch {
	case okG && okB:
		di := new(big.Int).Abs(new(big.Int).Sub(gi, bi))
		diff, _ = new(big.Float).SetInt(di).Float64()
		if finite {
			return gf, bf, diff, tol.within(gf, bf, diff)
		}
		gb, bb, d = exact(gi), exact(bi), exact(di)
	case finite:
		diff = math.Abs(gf - bf)
		return gf, bf, diff, tol.within(gf, bf, diff)
	default:
		const prec = 1 << 12 // bits: exact for any such number but absurdly long ones
		var err1, err2 error
		gb, _, err1 = big.ParseFloat(string(g), 10, prec, big.ToNearestEven)
		bb, _, err2 = big.ParseFloat(string(b), 10, prec, big.ToNearestEven)
		if err1 != nil || err2 != nil { // an exponent beyond even big.Float's: compare the text
			if string(g) == string(b) {
				return gf, bf, 0, true
			}
			return gf, bf, math.Inf(1), false
		}
		d = new(big.Float).SetPrec(2*prec).Sub(gb, bb)
		d.Abs(d)
		diff, _ = d.Float64()
	}
	bound := new(big.Float).Abs(gb)
	if ab := new(big.Float).Abs(bb); ab.Cmp(bound) > 0 {
		bound = ab
	}
	bound.Mul(bound, big.NewFloat(tol.Rel))
	if abs := big.NewFloat(tol.Abs); abs.Cmp(bound) > 0 {
		bound = abs
	}
	return gf, bf, diff, d.Cmp(bound) <= 0
}

// exact is i as a big.Float with all its bits.
func exact(i *big.Int) *big.Float {
	return new(big.Float).SetPrec(uint(max(i.BitLen(), 64))).SetInt(i)
}

// numberPair is one numeric leaf both answers have at the same place.
type numberPair struct {
	path        string
	green, blue float64
	// diff is |green − blue| as numbers computes it: exact for integers, never NaN (+Inf beyond
	// float64's range).
	diff         float64
	withinBounds bool
}

// difference is the outcome of comparing the two versions' selected values.
type difference struct {
	// agree is true when every value matches: strings, booleans and nulls exactly, numbers within the
	// tolerance, arrays element by element (same length), objects member by member (same names).
	agree bool
	// divergence ranks disagreements: +Inf for anything but numbers outside the tolerance (a different
	// label, type, length or member), else the largest absolute difference of a number.
	divergence float64
	// first says where the first difference is, e.g. `label: "negative" ≠ "positive"`; "" when agreeing.
	first string
	// numbers are the numeric leaves both have, for the per-field statistics, unless sink takes
	// each as it is found.
	numbers []numberPair
	sink    func(numberPair)
}

// compareValues compares green's and blue's selected values (one per field; names are the fields'
// paths, or "$" for the whole answer). Each pair of numeric leaves goes to sink when it is given,
// else to the difference's numbers.
func compareValues(green, blue []any, names []string, tol Tolerance, sink ...func(numberPair)) difference {
	d := difference{agree: true}
	if len(sink) > 0 {
		d.sink = sink[0]
	}
	for i := range green {
		d.walk(names[i], green[i], blue[i], tol)
	}
	return d
}

// differ records a difference at path.
func (d *difference) differ(path string, divergence float64, why string) {
	if d.agree {
		d.first = path + ": " + why
	}
	d.agree = false
	d.divergence = math.Max(d.divergence, divergence)
}

// walk compares g and b at path, recursing into arrays and objects.
func (d *difference) walk(path string, g, b any, tol Tolerance) {
	switch gv := g.(type) {
	case json.Number:
		bv, ok := b.(json.Number)
		if !ok {
			d.differ(path, math.Inf(1), describe(g)+" ≠ "+describe(b))
			return
		}
		gf, bf, diff, in := numbers(gv, bv, tol)
		if n := (numberPair{path: path, green: gf, blue: bf, diff: diff, withinBounds: in}); d.sink != nil {
			d.sink(n)
		} else {
			d.numbers = append(d.numbers, n)
		}
		if !in {
			d.differ(path, diff, fmt.Sprintf("%s ≠ %s (difference %.4g)", gv, bv, diff))
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(bv) != len(gv) {
			d.differ(path, math.Inf(1), shape(g)+" ≠ "+shape(b))
			return
		}
		for i := range gv {
			d.walk(fmt.Sprintf("%s[%d]", path, i), gv[i], bv[i], tol)
		}
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(bv) != len(gv) {
			d.differ(path, math.Inf(1), shape(g)+" ≠ "+shape(b))
			return
		}
		keys := make([]string, 0, len(gv))
		for k := range gv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			bk, ok := bv[k]
			if !ok {
				d.differ(path, math.Inf(1), fmt.Sprintf("member %q only in green's answer", k))
				continue
			}
			d.walk(join(path, k), gv[k], bk, tol)
		}
	default: // string, bool, nil
		if g != b {
			d.differ(path, math.Inf(1), describe(g)+" ≠ "+describe(b))
		}
	}
}

// join is path's member k: "score" under the whole answer ($), "a.b" below.
func join(path, k string) string {
	if path == "$" {
		return k
	}
	return path + "." + k
}

// shape describes a value's kind for a message: an array's length, an object's member count.
func shape(v any) string {
	switch x := v.(type) {
	case []any:
		return fmt.Sprintf("an array of %d", len(x))
	case map[string]any:
		return fmt.Sprintf("an object of %d members", len(x))
	}
	return describe(v)
}
