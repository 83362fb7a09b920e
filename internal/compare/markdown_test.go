package compare

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/golden"
)

// tallied is a report built from a tally of known pairs: a version's invalid answers of several
// kinds, numeric differences, a flipped label, hostile answer text, and the latencies.
// np is a pair of numbers at path whose difference is their float64 difference.
func np(path string, g, b float64, within bool) numberPair {
	return numberPair{path: path, green: g, blue: b, diff: math.Abs(g - b), withinBounds: within}
}

func tallied() *Report {
	t := newTally(3, "")
	add := func(line int, agreed bool, g, b parsed, diff difference, gRaw, bRaw string) {
		p := &pair{line: line, green: g, blue: b, compared: g.invalid == "", agreed: agreed, diff: diff,
			latency: [2]time.Duration{time.Duration(line) * time.Millisecond, 2 * time.Duration(line) * time.Millisecond}, greenRaw: []byte(gRaw), blueRaw: []byte(bRaw)}
		if g.invalid == "" && b.invalid != "" {
			p.invalidReason = "blue's answer is invalid: " + b.invalid
		}
		t.record(p)
	}
	ok := parsed{values: []any{0.0}}
	for i := 1; i <= 90; i++ {
		add(i, true, ok, ok, difference{agree: true, numbers: []numberPair{np("score", 0.5, 0.5+float64(i%3)/1000, true)}}, `{"score":0.5}`, `{"score":0.5}`)
	}
	add(91, false, ok, ok, difference{divergence: math.Inf(1), first: `label: "yes" ≠ "no"`, numbers: []numberPair{np("score", 0.51, 0.49, false)}},
		`{"label":"yes","score":0.51}`, "{\"label\":\"no | `x`\",\"score\":0.49}")
	add(92, false, ok, ok, difference{divergence: 0.2, first: "score: 0.5 ≠ 0.7 (difference 0.2)", numbers: []numberPair{np("score", 0.5, 0.7, false)}},
		`{"score":0.5}`, `{"score":0.7}`)
	add(93, false, ok, parsed{invalid: InvalidNonFinite}, difference{}, `{"score":0.5}`, `{"score":NaN}`)
	add(94, false, ok, parsed{invalid: InvalidStatus}, difference{}, `{"score":0.5}`, "HTTP 503: no healthy upstream")
	add(95, false, parsed{invalid: InvalidTimeout}, ok, difference{}, "timeout", `{"score":0.5}`)
	o := Options{Gateway: "http://20.1.2.3", Tolerance: Tolerance{Abs: 0.005, Rel: 1e-9}, MaxDisagreement: 0.01, Confidence: 0.99}
	r := newReport(t, o, 2*time.Second, false)
	r.Green.Latency, r.Blue.Latency = Latency{Count: 1, P50: 1, P90: 2, P99: 3, Max: 4}, Latency{Count: 1, P50: 2, P90: 4, P99: 6, Max: 8} // not the clock's
	return r
}

func TestMarkdownGolden(t *testing.T) {
	t.Parallel()
	r := tallied()
	if r.Compared != 94 || r.Agreed != 90 || r.Verdict != "degraded" || len(r.Divergent) != 3 || r.Divergent[0].Line != 91 {
		t.Fatalf("report %+v", r)
	}
	golden.Assert(t, "degraded.md.golden", Markdown(r))
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "degraded.json.golden", b.String())
	for _, o := range []Outcome{{Skipped: "dry run: the stage changed nothing, so the answers were not compared"}} {
		if md := o.Markdown(); !strings.HasPrefix(md, "### mlcanary compare: skipped\n\ndry run") {
			t.Errorf("skipped: %q", md)
		}
	}
}
