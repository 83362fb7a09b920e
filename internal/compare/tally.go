package compare

import (
	"bytes"
	"container/heap"
	"math"
	"net/http"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/mlcanary/mlcanary/internal/loadtest"
	"github.com/mlcanary/mlcanary/internal/secret"
)

// Limits that keep a Tally's size independent of the number of requests.
const (
	// MaxFields is how many numeric fields get their own statistics; the rest share OtherFields.
	MaxFields = 64
	// MaxShown is how many bytes of an answer a divergent request keeps.
	MaxShown = 200
)

// OtherFields names the statistics of the numeric fields beyond the first MaxFields.
const OtherFields = "(other fields)"

// Tally is what a comparison observed, in structures whose size is fixed however many requests
// are sent: counts, a latency histogram per version, bounded per-field statistics, two sketches for
// the distribution shift and a heap of the k most divergent requests.
type Tally struct {
	// Requests counts the lines sent (each to both versions).
	Requests int
	// Compared counts the requests green answered validly: the ones blue is judged on. Agreed counts
	// those blue answered validly and alike; the others disagree.
	Compared, Agreed int
	// BothValid counts the compared requests blue answered validly too; Identical those of them both
	// versions answered with the same bytes.
	BothValid, Identical int
	// Versions is each version's own counts, [0] green and [1] blue.
	Versions [2]VersionTally
	// Fields are the numeric fields' statistics in first-seen order.
	Fields    []*FieldStats
	fieldIdx  map[string]int
	shiftPath string
	shift     [2]Sketch
	top       topK
}

// VersionTally is one version's answers: valid ones, invalid ones by kind, and latency.
type VersionTally struct {
	Valid   int
	Invalid map[string]int
	// Missing counts, per --field as typed, the answers that lack it (InvalidMissing; the first
	// missing field of an answer): at most one entry per --field.
	Missing map[string]int
	// Latency holds the time from sending each request to reading its whole answer, for every
	// request that got an HTTP answer (any status).
	Latency loadtest.Histogram
}

// FieldStats are one numeric field's differences over the requests both versions answered validly.
type FieldStats struct {
	Path string `json:"path"`
	// N counts the pairs of numbers; SumAbs and Max are of |green − blue|; Outside counts the pairs
	// outside the tolerance.
	N       int     `json:"n"`
	SumAbs  float64 `json:"-"`
	Max     float64 `json:"maxDifference"`
	Outside int     `json:"outsideTolerance"`
}

// MeanAbs is the mean absolute difference.
func (f *FieldStats) MeanAbs() float64 {
	if f.N == 0 {
		return 0
	}
	return f.SumAbs / float64(f.N)
}

// newTally starts a tally keeping the top k divergent requests; shiftPath is the numeric field whose
// distributions are compared ("" until the first numeric field is seen).
func newTally(k int, shiftPath string) *Tally {
	t := &Tally{fieldIdx: map[string]int{}, shiftPath: shiftPath, top: topK{k: k}}
	for i := range t.Versions {
		t.Versions[i].Invalid = map[string]int{}
		t.Versions[i].Missing = map[string]int{}
	}
	return t
}

// pair is one request's two answers, compared.
type pair struct {
	line        int
	green, blue parsed
	latency     [2]time.Duration // < 0 when there was no HTTP answer
	diff        difference
	greenRaw    []byte
	blueRaw     []byte
	header      http.Header // the line's own headers, hidden from what the report shows

	compared      bool
	agreed        bool
	invalidReason string
}

// number adds one pair of numeric leaves to its field's statistics and the shift sketches.
func (t *Tally) number(n numberPair) {
	t.field(n.path).add(n)
	if t.shiftPath == "" {
		t.shiftPath = n.path
	}
	if n.path == t.shiftPath {
		t.shift[0].Add(n.green)
		t.shift[1].Add(n.blue)
	}
}

// record adds one pair.
func (t *Tally) record(p *pair) {
	t.Requests++
	for i, a := range []parsed{p.green, p.blue} {
		v := &t.Versions[i]
		switch {
		case a.invalid == InvalidMissing:
			v.Missing[a.missing]++
			v.Invalid[a.invalid]++
		case a.invalid != "":
			v.Invalid[a.invalid]++
		default:
			v.Valid++
		}
		if p.latency[i] >= 0 {
			v.Latency.Record(p.latency[i])
		}
	}
	if !p.compared {
		return
	}
	t.Compared++
	if p.agreed {
		t.Agreed++
	}
	if p.blue.invalid == "" {
		t.BothValid++
		if bytes.Equal(p.greenRaw, p.blueRaw) {
			t.Identical++
		}
	}
	for _, n := range p.diff.numbers {
		t.number(n)
	}
	div := p.diff.divergence
	why := p.diff.first
	if p.invalidReason != "" {
		div, why = math.Inf(1), p.invalidReason
	}
	if div > 0 && t.top.wants(div, p.line) {
		secrets := secret.HeaderSecrets(p.header)
		t.top.offer(Divergent{Line: p.line, Divergence: div, Difference: secret.Unecho(why, secrets...),
			Green: shown(p.greenRaw, secrets), Blue: shown(p.blueRaw, secrets)})
	}
}

// shown is an answer as a report shows it: cut (MaxShown bytes) after every secret the request sent
// in its headers is hidden (secret.Unecho: an auth layer's "token rejected: Bearer eyJ…", an echo
// of an API key), so that no cut leaves part of one. Only the beginning that can be shown is read.
func shown(b []byte, secrets []string) string {
	if len(secrets) == 0 {
		return cut(b)
	}
	longest := 0
	for _, s := range secrets {
		longest = max(longest, len(s))
	}
	head := b[:min(len(b), MaxShown+longest)]
	return cut([]byte(secret.Unecho(string(head), secrets...)))
}

// field returns the statistics of path, or OtherFields' when MaxFields are already tracked.
func (t *Tally) field(path string) *FieldStats {
	if i, ok := t.fieldIdx[path]; ok {
		return t.Fields[i]
	}
	if len(t.Fields) >= MaxFields {
		path = OtherFields
		if i, ok := t.fieldIdx[path]; ok {
			return t.Fields[i]
		}
	}
	t.fieldIdx[path] = len(t.Fields)
	t.Fields = append(t.Fields, &FieldStats{Path: path})
	return t.Fields[len(t.Fields)-1]
}

// add counts one pair by its difference as the verdict computed it (numberPair.diff: exact for
// integers above 2^53), so the statistics never contradict the pairs found outside the tolerance.
func (f *FieldStats) add(n numberPair) {
	d := n.diff
	f.N++
	f.SumAbs += d
	f.Max = math.Max(f.Max, d)
	if !n.withinBounds {
		f.Outside++
	}
}

// cut is an answer as a report shows it: at most MaxShown bytes, cut on a character boundary.
func cut(b []byte) string {
	if len(b) <= MaxShown {
		return string(b)
	}
	n := MaxShown
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}

// Divergent is one of the most divergent requests.
type Divergent struct {
	// Line is the request's line in the file.
	Line int `json:"line"`
	// Divergence ranks it: +Inf (shown as "different") for an invalid answer or a difference other than
	// a number's, else the largest absolute difference of a number.
	Divergence float64 `json:"-"`
	// Difference says where the first difference is, or which answer was invalid.
	Difference string `json:"difference"`
	// Green and Blue are the answers, cut at MaxShown bytes (an error's kind when there was none).
	Green string `json:"green"`
	Blue  string `json:"blue"`
}

// topK keeps the k most divergent requests (ties: the earlier line) in a min-heap of size k.
type topK struct {
	k     int
	items []Divergent
}

func (h *topK) Len() int { return len(h.items) }

// Less orders the heap's root as the entry to drop first: the least divergent, then the later line.
func (h *topK) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.Divergence != b.Divergence {
		return a.Divergence < b.Divergence
	}
	return a.Line > b.Line
}
func (h *topK) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *topK) Push(x any)    { h.items = append(h.items, x.(Divergent)) }
func (h *topK) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// wants reports whether a request of divergence div on line would be kept, so the report's text of
// one that would not is never made.
func (h *topK) wants(div float64, line int) bool {
	if h.k <= 0 {
		return false
	}
	if len(h.items) < h.k {
		return true
	}
	root := h.items[0]
	return div > root.Divergence || (div == root.Divergence && line < root.Line)
}

func (h *topK) offer(d Divergent) {
	if h.k <= 0 {
		return
	}
	if len(h.items) < h.k {
		heap.Push(h, d)
		return
	}
	root := h.items[0]
	if d.Divergence > root.Divergence || (d.Divergence == root.Divergence && d.Line < root.Line) {
		h.items[0] = d
		heap.Fix(h, 0)
	}
}

// sorted is the kept requests, most divergent first (ties: earlier line first).
func (h *topK) sorted() []Divergent {
	out := append([]Divergent(nil), h.items...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Divergence != out[j].Divergence {
			return out[i].Divergence > out[j].Divergence
		}
		return out[i].Line < out[j].Line
	})
	return out
}
