package scoringmock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
)

// Model is the deterministic model mode (serve-model --weights): /score reads numeric inputs from
// the JSON body and answers a linear score and a label,
//
//	score = Bias + Σ Weights[i]·x[i]          label = Labels[1] when score ≥ Threshold, else Labels[0]
//
// written as {"score": <number>, "label": "<label>"}. Two servers with the same Model answer every
// request identically, slightly different weights give slightly different scores, a moved
// threshold flips the labels of the inputs between the two thresholds, and NaNRate makes a share of
// answers carry NaN, written as Python's json.dumps writes it ({"score": NaN, ...}, which is not
// JSON), so every way two model versions can differ can be produced on purpose.
type Model struct {
	// Weights are positional (x[i] is the body's i-th number: the body is a JSON array of numbers) or,
	// when Names is set, by name (x[i] is the body's member Names[i]: the body is a JSON object).
	Weights []float64
	Names   []string
	// Bias is added to the weighted sum.
	Bias float64
	// Threshold splits the scores into the two Labels: below it Labels[0], at or above it Labels[1].
	Threshold float64
	Labels    [2]string
	// NaNRate is the fraction (0..1) of answers whose score is NaN, spread evenly and deterministically
	// over the requests like FailRate: after n answers exactly floor(n·NaNRate) were NaN.
	NaNRate float64

	n atomic.Uint64
}

// DefaultLabels are the labels below and at or above the threshold unless --labels says otherwise.
var DefaultLabels = [2]string{"negative", "positive"}

// ParseWeights reads --weights: comma-separated numbers ("0.5,-1,2": positional, the body is a JSON
// array) or NAME=NUMBER pairs ("age=0.5,income=-1": by name, the body is a JSON object). Names are
// unique and not empty; every weight is a finite number. It returns the weights and the names (nil
// when positional).
func ParseWeights(s string) ([]float64, []string, error) {
	parts := strings.Split(s, ",")
	var weights []float64
	var names []string
	seen := map[string]bool{}
	for i, p := range parts {
		name, num, named := strings.Cut(p, "=")
		if !named {
			num = name
		}
		if i > 0 && named != (names != nil) {
			return nil, nil, errors.New("either all weights are named or none is")
		}
		if named {
			name = strings.TrimSpace(name)
			if name == "" || seen[name] {
				return nil, nil, fmt.Errorf("weight %d has an empty or repeated name", i+1)
			}
			seen[name] = true
			names = append(names, name)
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, nil, fmt.Errorf("weight %d is not a finite number", i+1)
		}
		weights = append(weights, w)
	}
	return weights, names, nil
}

// Score is the model's answer to body: the score and its label, or an error saying why the body is
// not an input of this model (not JSON, not the array or object the weights read, a missing or
// non-numeric input).
func (m *Model) Score(body []byte) (float64, string, error) {
	x, err := m.inputs(body)
	if err != nil {
		return 0, "", err
	}
	s := m.Bias
	for i, w := range m.Weights {
		s += w * x[i]
	}
	label := m.Labels[0]
	if s >= m.Threshold {
		label = m.Labels[1]
	}
	return s, label, nil
}

// inputs reads the numbers the weights apply to, in the weights' order.
func (m *Model) inputs(body []byte) ([]float64, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	if m.Names == nil {
		var x []float64
		if err := d.Decode(&x); err != nil {
			return nil, fmt.Errorf("the body must be a JSON array of %d numbers: %w", len(m.Weights), err)
		}
		if len(x) != len(m.Weights) {
			return nil, fmt.Errorf("the body has %d numbers; the model reads %d", len(x), len(m.Weights))
		}
		return x, nil
	}
	var obj map[string]json.RawMessage
	if err := d.Decode(&obj); err != nil || obj == nil {
		return nil, fmt.Errorf("the body must be a JSON object with the numbers %s", strings.Join(m.Names, ", "))
	}
	x := make([]float64, len(m.Names))
	for i, name := range m.Names {
		raw, ok := obj[name]
		if !ok || string(raw) == "null" || json.Unmarshal(raw, &x[i]) != nil {
			return nil, fmt.Errorf("the body's %q must be a number", name)
		}
	}
	return x, nil
}

// answer is the body /score answers in model mode, newline-terminated.
func (m *Model) answer(body []byte) ([]byte, error) {
	s, label, err := m.Score(body)
	if err != nil {
		return nil, err
	}
	l, _ := json.Marshal(label) // a Go string always marshals
	num := strconv.FormatFloat(s, 'g', -1, 64)
	switch {
	case m.nan():
		num = "NaN"
	case math.IsInf(s, 1): // huge weights: written as Python writes it
		num = "Infinity"
	case math.IsInf(s, -1):
		num = "-Infinity"
	}
	return []byte(`{"score":` + num + `,"label":` + string(l) + "}\n"), nil
}

// nan reports whether this answer is one of the NaN answers (the rule of scorer.fail).
func (m *Model) nan() bool {
	if m.NaNRate <= 0 {
		return false
	}
	n := m.n.Add(1)
	return uint64(float64(n)*m.NaNRate) > uint64(float64(n-1)*m.NaNRate)
}
