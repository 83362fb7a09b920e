package compare

import (
	"fmt"
	"math"
	"sort"
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
	return math.Abs(a-b) <= math.Max(t.Rel*math.Max(math.Abs(a), math.Abs(b)), t.Abs)
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
	case float64:
		bv, ok := b.(float64)
		if !ok {
			d.differ(path, math.Inf(1), describe(g)+" ≠ "+describe(b))
			return
		}
		in := tol.Within(gv, bv)
		d.numbers = append(d.numbers, numberPair{path: path, green: gv, blue: bv, withinBounds: in})
		if !in {
			d.differ(path, math.Abs(gv-bv), fmt.Sprintf("%s ≠ %s (difference %.4g)", describe(g), describe(b), math.Abs(gv-bv)))
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
