package compare

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, canonical, err string
	}{
		{"", "$", ""},
		{"$", "$", ""},
		{"score", "score", ""},
		{"$.score", "score", ""},
		{"predictions[0].label", "predictions[0].label", ""},
		{"$.predictions[12][3]", "predictions[12][3]", ""},
		{"[0]", "$[0]", ""},
		{`$["a.b"].c`, "a.b.c", ""},
		{"a[x]", "", "an index step is [N] with N a whole number of 0 or more"},
		{"a[-1]", "", "an index step is [N] with N a whole number of 0 or more"},
		{"a[1", "", "an index step is [N] with N a whole number of 0 or more"},
		{"a..b", "", "a member name is empty"},
		{"a.", "", "the path ends with a dot"},
		{`["a`, "", `a ["name"] step has no closing "]`},
	} {
		p, err := ParsePath(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParsePath(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || p.Canonical() != tc.canonical {
			t.Errorf("ParsePath(%q) = %q, %v; want %q", tc.in, p.Canonical(), err, tc.canonical)
		}
	}
}

// TestParseAnswer: which answers are valid, which kind of invalid the others are, and the selected values.
func TestParseAnswer(t *testing.T) {
	t.Parallel()
	path := func(s string) Path { p, _ := ParsePath(s); return p }
	for _, tc := range []struct {
		body    string
		fields  []Path
		values  []any
		invalid string
	}{
		{`{"score": 0.5, "label": "yes"}`, nil, []any{map[string]any{"score": json.Number("0.5"), "label": "yes"}}, ""},
		{`"New Model A"`, nil, []any{"New Model A"}, ""},
		{`{"score": 0.5, "label": "yes"}`, []Path{path("label"), path("$.score")}, []any{"yes", json.Number("0.5")}, ""},
		{`{"p": [0.1, 0.9]}`, []Path{path("p[1]")}, []any{json.Number("0.9")}, ""},
		{`{"score": NaN, "label": "yes"}`, nil, nil, InvalidNonFinite},
		{`{"score": -Infinity}`, nil, nil, InvalidNonFinite},
		{`[Infinity, 1]`, nil, nil, InvalidNonFinite},
		{`{"note": "NaN", "score": NaN}`, nil, nil, InvalidNonFinite},
		{`{"note": "NaN"}`, nil, []any{map[string]any{"note": "NaN"}}, ""},
		{`{"score": nan}`, nil, nil, InvalidJSON},
		{`{"score": NaN`, nil, nil, InvalidJSON},
		{`<html>502 Bad Gateway</html>`, nil, nil, InvalidJSON},
		{``, nil, nil, InvalidJSON},
		{`null`, nil, nil, InvalidNull},
		{`{"score": null}`, []Path{path("score")}, nil, InvalidNull},
		{`{"score": 1}`, []Path{path("label")}, nil, InvalidMissing},
		{`{"p": [0.1]}`, []Path{path("p[1]")}, nil, InvalidMissing},
		{`[1]`, []Path{path("a")}, nil, InvalidMissing},
	} {
		got := parseAnswer([]byte(tc.body), tc.fields)
		if got.invalid != tc.invalid || !cmp.Equal(got.values, tc.values) {
			t.Errorf("parseAnswer(%s) = %+v, want values %v invalid %q", tc.body, got, tc.values, tc.invalid)
		}
	}
}

var tenth = 0.1 // a variable, so 0.1+0.2 is computed in float64 and not as an exact constant

// TestTolerance: Python's math.isclose examples (PEP 485) and the edges.
func TestTolerance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tol  Tolerance
		a, b float64
		want bool
	}{
		{Tolerance{Rel: 1e-9}, 1.0, 1.0 + 1e-10, true},
		{Tolerance{Rel: 1e-9}, 1.0, 1.0 + 1e-8, false},
		{Tolerance{Rel: 0.1}, 9, 10, true},    // |1| ≤ 0.1·10
		{Tolerance{Rel: 0.1}, 8.9, 10, false}, // |1.1| > 1
		{Tolerance{Rel: 1e-9}, 0, 1e-300, false},
		{Tolerance{Rel: 1e-9, Abs: 1e-12}, 0, 1e-300, true},
		{Tolerance{Abs: 0.01}, 0.5, 0.509, true},
		{Tolerance{Abs: 0.01}, 0.5, 0.5101, false},
		{Tolerance{}, tenth + 2*tenth, 0.3, false}, // 0.30000000000000004: exactly equal is exact
		{Tolerance{}, 2, 2, true},
		{Tolerance{Rel: 1, Abs: 1}, math.NaN(), math.NaN(), false},
	} {
		if got := tc.tol.Within(tc.a, tc.b); got != tc.want {
			t.Errorf("%+v.Within(%v, %v) = %v, want %v", tc.tol, tc.a, tc.b, got, tc.want)
		}
	}
}

// TestCompareValues: what agrees and what does not, where the first difference is, how it ranks,
// and the numeric leaves both have.
func TestCompareValues(t *testing.T) {
	t.Parallel()
	tol := Tolerance{Abs: 0.01}
	num := func(f float64) json.Number { return json.Number(strconv.FormatFloat(f, 'g', -1, 64)) }
	obj := func(score float64, label string) any { return map[string]any{"score": num(score), "label": label} }
	for _, tc := range []struct {
		name        string
		green, blue any
		agree       bool
		divergence  float64
		first       string
		numbers     int
	}{
		{"identical", obj(0.5, "yes"), obj(0.5, "yes"), true, 0, "", 1},
		{"within tolerance", obj(0.5, "yes"), obj(0.505, "yes"), true, 0, "", 1},
		{"number outside", obj(0.5, "yes"), obj(0.6, "yes"), false, 0.1, "score: 0.5 ≠ 0.6 (difference 0.1)", 1},
		{"label flipped", obj(0.5, "yes"), obj(0.5, "no"), false, math.Inf(1), `label: "yes" ≠ "no"`, 1},
		{"type differs", obj(0.5, "yes"), map[string]any{"score": "0.5", "label": "yes"}, false, math.Inf(1), `score: 0.5 ≠ "0.5"`, 0},
		{"member missing", obj(0.5, "yes"), map[string]any{"score": num(0.5), "labels": "yes"}, false, math.Inf(1), `$: member "label" only in green's answer`, 1},
		{"member added", obj(0.5, "yes"), map[string]any{"score": num(0.5), "label": "yes", "x": num(1)}, false, math.Inf(1), "$: an object of 2 members ≠ an object of 3 members", 0},
		{"arrays element-wise", []any{num(0.1), num(0.9)}, []any{num(0.1), num(0.905)}, true, 0, "", 2},
		{"array element outside", []any{num(0.1), num(0.9)}, []any{num(0.2), num(0.8)}, false, 0.1, "$[0]: 0.1 ≠ 0.2 (difference 0.1)", 2},
		{"array length", []any{num(0.1), num(0.9)}, []any{num(0.1)}, false, math.Inf(1), "$: an array of 2 ≠ an array of 1", 0},
		{"booleans and nulls", []any{true, nil}, []any{true, nil}, true, 0, "", 0},
		{"boolean flipped", []any{true}, []any{false}, false, math.Inf(1), "$[0]: true ≠ false", 0},
	} {
		d := compareValues([]any{tc.green}, []any{tc.blue}, []string{"$"}, tol)
		if d.agree != tc.agree || math.Abs(d.divergence-tc.divergence) > 1e-12 && !math.IsInf(tc.divergence, 1) ||
			math.IsInf(tc.divergence, 1) != math.IsInf(d.divergence, 1) || d.first != tc.first || len(d.numbers) != tc.numbers {
			t.Errorf("%s: got agree %v divergence %v first %q numbers %d; want %v %v %q %d", tc.name,
				d.agree, d.divergence, d.first, len(d.numbers), tc.agree, tc.divergence, tc.first, tc.numbers)
		}
	}
	// Selected fields are named by their paths.
	d := compareValues([]any{"yes", num(0.5)}, []any{"no", num(0.7)}, []string{"label", "score"}, tol)
	if d.first != `label: "yes" ≠ "no"` || len(d.numbers) != 1 || d.numbers[0].path != "score" || d.numbers[0].withinBounds {
		t.Errorf("fields: %+v", d)
	}
}

// TestJSONEquivalences: 1, 1.0 and 1e0, -0 and 0, key order and white space agree; "1" (a string)
// and 1, nested arrays of different length, an extra member, true and "true", and a label's case
// disagree (kept from the #11 break-it review).
func TestJSONEquivalences(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		green, blue string
		agree       bool
	}{
		{`{"a":1,"b":[1,2]}`, `{ "b" : [1.0, 2e0], "a" : 1.0 }`, true},
		{`{"s":-0}`, `{"s":0}`, true},
		{`{"s":1}`, `{"s":"1"}`, false},
		{`[[1,2],[3]]`, `[[1,2],[3,4]]`, false},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`{"ok":true}`, `{"ok":"true"}`, false},
		{`"positive"`, `"Positive"`, false},
	} {
		g, b := parseAnswer([]byte(c.green), nil), parseAnswer([]byte(c.blue), nil)
		if d := compareValues(g.values, b.values, []string{"$"}, Tolerance{}); d.agree != c.agree {
			t.Errorf("%s vs %s: agree %v, want %v (%s)", c.green, c.blue, d.agree, c.agree, d.first)
		}
	}
}

// TestIntegersCompareExactly (found by the #11 break-it review, C3): integers are compared as
// integers, not as float64, so under an exact comparison 2^53+1 and 2^53 (one float64) differ, as do
// two int64 ids one apart; with a tolerance their exact difference (1) is what is measured.
func TestIntegersCompareExactly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		green, blue string
		tol         Tolerance
		agree       bool
	}{
		{`{"bucket":9007199254740992}`, `{"bucket":9007199254740993}`, Tolerance{}, false},
		{`[9223372036854775806]`, `[9223372036854775807]`, Tolerance{}, false},
		{`[123456789012345678901234567890]`, `[123456789012345678901234567891]`, Tolerance{}, false},
		{`[9007199254740993]`, `[9007199254740993]`, Tolerance{}, true},
		{`[9007199254740992]`, `[9007199254740993]`, Tolerance{Abs: 1}, true},
		{`[9007199254740992]`, `[9007199254740994]`, Tolerance{Abs: 1}, false},
		{`[-0]`, `[0]`, Tolerance{}, true},
		{`[1]`, `[1.0]`, Tolerance{}, true},
	} {
		g, b := parseAnswer([]byte(c.green), nil), parseAnswer([]byte(c.blue), nil)
		if d := compareValues(g.values, b.values, []string{"$"}, c.tol); d.agree != c.agree {
			t.Errorf("%s vs %s under %+v: agree %v, want %v (%s)", c.green, c.blue, c.tol, d.agree, c.agree, d.first)
		}
	}
}

// TestNonFiniteOnlyInSelectedFields (found by the #11 break-it review, C8): with --field, fields are
// selected before NaN/Infinity is refused, so a NaN in an unselected member (a debug loss) leaves the
// answer valid; a NaN in a selected field, or anywhere without --field, still makes it invalid.
func TestNonFiniteOnlyInSelectedFields(t *testing.T) {
	t.Parallel()
	path := func(s string) Path { p, _ := ParsePath(s); return p }
	body := []byte(`{"label": "approve", "debug": {"loss": NaN, "grad": [Infinity, -Infinity]}, "note": "NaN"}`)
	if got := parseAnswer(body, []Path{path("label")}); got.invalid != "" || !cmp.Equal(got.values, []any{"approve"}) {
		t.Errorf("--field label: %+v, want \"approve\"", got)
	}
	if got := parseAnswer(body, []Path{path("note")}); got.invalid != "" || !cmp.Equal(got.values, []any{"NaN"}) {
		t.Errorf("--field note (the string \"NaN\"): %+v", got)
	}
	for _, fields := range [][]Path{nil, {path("debug.loss")}, {path("debug")}, {path("label"), path("debug.grad[1]")}} {
		if got := parseAnswer(body, fields); got.invalid != InvalidNonFinite {
			t.Errorf("fields %v: %+v, want %s", fields, got, InvalidNonFinite)
		}
	}
	if got := parseAnswer([]byte(`{"label": "a", "debug": NaN`), []Path{path("label")}); got.invalid != InvalidJSON {
		t.Errorf("broken JSON with a NaN: %+v, want %s", got, InvalidJSON)
	}
}
