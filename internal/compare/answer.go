package compare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Kinds of invalid answer, counted per version. They are few and fixed, so the count stays small.
const (
	InvalidStatus     = "HTTP error"         // a status outside 200–299
	InvalidTimeout    = "timeout"            // no complete answer within --timeout
	InvalidConnection = "connection"         // refused, reset, or any other transport failure
	InvalidJSON       = "non-JSON"           // a body that is not one JSON value
	InvalidEncoding   = "undecodable"        // a Content-Encoding other than gzip or deflate, or a corrupt one
	InvalidTooLarge   = "larger than 16 MiB" // a body longer than MaxAnswerBytes, not read further (JSON or not)
	InvalidNonFinite  = "NaN/Infinity"       // NaN, Infinity or -Infinity where a number goes (Python's json.dumps writes them)
	InvalidNull       = "null"               // the answer, or a selected field, is null
	InvalidMissing    = "missing field"      // a --field path the answer does not have
)

// InvalidKinds lists the kinds in the order reports show them.
var InvalidKinds = []string{InvalidStatus, InvalidTimeout, InvalidConnection, InvalidJSON, InvalidEncoding, InvalidTooLarge, InvalidNonFinite, InvalidNull, InvalidMissing}

// Path is a parsed --field: a JSON path of member names and array indices, written
// `$.predictions[0].label`, `predictions[0].label` or `score` ($ alone, or no path, is the whole
// answer). A name holding dots or brackets is written ["a.b"].
type Path struct {
	Text  string
	Steps []Step
}

// Step is one step of a Path: a member Name, or an Index when IsIndex.
type Step struct {
	Name    string
	Index   int
	IsIndex bool
}

// ParsePath reads a --field path.
func ParsePath(s string) (Path, error) {
	p := Path{Text: s}
	rest := strings.TrimPrefix(strings.TrimSpace(s), "$")
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, `["`):
			end := strings.Index(rest, `"]`)
			if end < 0 {
				return Path{}, errors.New(`a ["name"] step has no closing "]`)
			}
			p.Steps = append(p.Steps, Step{Name: rest[2:end]})
			rest = rest[end+2:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			n, err := strconv.Atoi(rest[1:max(end, 1)])
			if end < 0 || err != nil || n < 0 {
				return Path{}, errors.New("an index step is [N] with N a whole number of 0 or more")
			}
			p.Steps = append(p.Steps, Step{Index: n, IsIndex: true})
			rest = rest[end+1:]
		default:
			rest = strings.TrimPrefix(rest, ".")
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return Path{}, errors.New("a member name is empty")
			}
			p.Steps = append(p.Steps, Step{Name: rest[:end]})
			rest = rest[end:]
			if strings.HasPrefix(rest, ".") && len(rest) == 1 {
				return Path{}, errors.New("the path ends with a dot")
			}
		}
	}
	return p, nil
}

// String is the path as --field gave it.
func (p Path) String() string { return p.Text }

// Canonical is the path as reports name a field: member names joined by dots, indices in brackets,
// no leading $ ("predictions[0].label"); "$" for the whole answer. Numeric fields found inside a
// selected value are named the same way, so --shift-field matches them however it was written.
func (p Path) Canonical() string {
	out := "$"
	for _, s := range p.Steps {
		if s.IsIndex {
			out = fmt.Sprintf("%s[%d]", out, s.Index)
		} else {
			out = join(out, s.Name)
		}
	}
	return out
}

// get returns the value at p in v, and false when v does not have it.
func (p Path) get(v any) (any, bool) {
	for _, s := range p.Steps {
		switch {
		case s.IsIndex:
			a, ok := v.([]any)
			if !ok || s.Index >= len(a) {
				return nil, false
			}
			v = a[s.Index]
		default:
			o, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = o[s.Name]; !ok {
				return nil, false
			}
		}
	}
	return v, true
}

// parsed is one version's answer as compare reads it: the selected values (one per --field, or
// the whole answer), or why it is invalid; missing is the --field (as typed) the answer lacks, when
// invalid is InvalidMissing.
type parsed struct {
	values  []any
	invalid string
	missing string
}

// nonFiniteMark stands for a bare NaN, Infinity or -Infinity token while an answer is decoded, so
// that fields are selected before non-finite numbers are refused: only a selected value holding one
// makes the answer InvalidNonFinite (a NaN in an unselected debug member does not).
const nonFiniteMark = "\x00mlcanary:non-finite\x00"

// parseAnswer decodes body (a 2xx answer) and selects fields. Numbers are kept as json.Number, so
// integers of any size compare exactly (compareNumbers). An answer that is not JSON is InvalidJSON;
// one that is JSON but for NaN or ±Infinity numbers (Python's json.dumps writes them) is decoded
// with those marked, and is InvalidNonFinite when a selected value (the whole answer without
// --field) holds one. An answer that is null, or a selected field that is null, is InvalidNull; a
// field the answer lacks, InvalidMissing.
func parseAnswer(body []byte, fields []Path) parsed {
	v, err := decode(body)
	if err != nil {
		marked, found := markNonFinite(body)
		if !found {
			return parsed{invalid: InvalidJSON}
		}
		if v, err = decode(marked); err != nil {
			return parsed{invalid: InvalidJSON}
		}
	}
	if v == nil {
		return parsed{invalid: InvalidNull}
	}
	out := []any{v}
	if len(fields) > 0 {
		out = make([]any, len(fields))
		for i, f := range fields {
			fv, ok := f.get(v)
			switch {
			case !ok:
				return parsed{invalid: InvalidMissing, missing: f.Text}
			case fv == nil:
				return parsed{invalid: InvalidNull}
			}
			out[i] = fv
		}
	}
	for _, x := range out {
		if holdsNonFinite(x) {
			return parsed{invalid: InvalidNonFinite}
		}
	}
	return parsed{values: out}
}

// decode reads exactly one JSON value, numbers as json.Number.
func decode(body []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// holdsNonFinite reports whether v is or contains a marked NaN/Infinity.
func holdsNonFinite(v any) bool {
	switch x := v.(type) {
	case string:
		return x == nonFiniteMark
	case []any:
		for _, e := range x {
			if holdsNonFinite(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if holdsNonFinite(e) {
				return true
			}
		}
	}
	return false
}

// markNonFinite rewrites body's bare NaN, Infinity and -Infinity tokens (outside strings) as the
// JSON string nonFiniteMark, and reports whether it found any.
func markNonFinite(body []byte) ([]byte, bool) {
	mark, _ := json.Marshal(nonFiniteMark)
	var b bytes.Buffer
	found := false
	inString, escaped := false, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			b.WriteByte(c)
			continue
		}
		if c == '"' {
			inString = true
			b.WriteByte(c)
			continue
		}
		matched := false
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(body[i:], []byte(tok)) {
				b.Write(mark)
				i += len(tok) - 1
				found, matched = true, true
				break
			}
		}
		if !matched {
			b.WriteByte(c)
		}
	}
	return b.Bytes(), found
}

// describe is a value for a message, e.g. `"positive"` or `0.93`.
func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
