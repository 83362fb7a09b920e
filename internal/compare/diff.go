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

// numbers reads two JSON numbers as float64 and their absolute difference. When both are written as
// integers (no fraction or exponent) the difference is computed exactly on the integers, so
// 9007199254740993 and 9007199254740992 (2^53 + 1 and 2^53, the same float64) differ by 1 and an
// exact comparison (both tolerances 0) tells them apart; 1 and 1.0 are compared as floats, equal.
func numbers(g, b json.Number) (gf, bf, diff float64) {
	gf, _ = strconv.ParseFloat(string(g), 64) // decoded JSON numbers parse; out of range is ±Inf
	bf, _ = strconv.ParseFloat(string(b), 64)
	gi, okG := new(big.Int).SetString(string(g), 10)
	bi, okB := new(big.Int).SetString(string(b), 10)
	if okG && okB {
		diff, _ = new(big.Float).SetInt(new(big.Int).Abs(new(big.Int).Sub(gi, bi))).Float64()
		return gf, bf, diff
	}
	return gf, bf, math.Abs(gf - bf)
}

// numberPair is one numeric leaf both answers have at the same place.
type numberPair struct {
	path         string
	green, blue  float64
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
	// numbers are the numeric leaves both have, for the per-field statistics.
	numbers []numberPair
}

// compareValues compares green's and blue's selected values (one per field; names are the fields'
// paths, or "$" for the whole answer).
func compareValues(green, blue []any, names []string, tol Tolerance) difference {
	d := difference{agree: true}
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
		gf, bf, diff := numbers(gv, bv)
		in := tol.within(gf, bf, diff)
		d.numbers = append(d.numbers, numberPair{path: path, green: gf, blue: bf, withinBounds: in})
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
