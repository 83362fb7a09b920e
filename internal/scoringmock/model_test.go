package scoringmock

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/config"
)

func TestParseWeights(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		weights []float64
		names   []string
		err     string
	}{
		{"0.5,-1,2", []float64{0.5, -1, 2}, nil, ""},
		{" 1 ", []float64{1}, nil, ""},
		{"age=0.5, income = -1e-3", []float64{0.5, -0.001}, []string{"age", "income"}, ""},
		{"age=1,2", nil, nil, "either all weights are named or none is"},
		{"1,age=2", nil, nil, "either all weights are named or none is"},
		{"a=1,a=2", nil, nil, "weight 2 has an empty or repeated name"},
		{"=1", nil, nil, "weight 1 has an empty or repeated name"},
		{"1,NaN", nil, nil, "weight 2 is not a finite number"},
		{"1,,2", nil, nil, "weight 2 is not a finite number"},
		{"Inf", nil, nil, "weight 1 is not a finite number"},
		{"1e400", nil, nil, "weight 1 is not a finite number"},
	} {
		w, n, err := ParseWeights(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseWeights(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(w, tc.weights) || !cmp.Equal(n, tc.names) {
			t.Errorf("ParseWeights(%q) = %v, %v, %v; want %v, %v", tc.in, w, n, err, tc.weights, tc.names)
		}
	}
}

// TestModelScore: the score and label of known inputs, and each body the model cannot read.
func TestModelScore(t *testing.T) {
	t.Parallel()
	positional := &Model{Weights: []float64{0.5, -1, 2}, Bias: 0.1, Threshold: 4.6, Labels: DefaultLabels}
	named := &Model{Weights: []float64{0.5, -1}, Names: []string{"age", "income"}, Threshold: 0, Labels: [2]string{"no", "yes"}}
	for _, tc := range []struct {
		m     *Model
		body  string
		score float64
		label string
		err   string
	}{
		{positional, `[1,2,3]`, 4.6, "positive", ""}, // exactly at the threshold: the upper label
		{positional, `[1,2,2.9]`, 4.4, "negative", ""},
		{positional, `[0,0,0]`, 0.1, "negative", ""},
		{named, `{"age": 4, "income": 1, "other": "x"}`, 1, "yes", ""},
		{named, `{"income": 3, "age": 2}`, -2, "no", ""},
		{positional, `[1,2]`, 0, "", "the body has 2 numbers; the model reads 3"},
		{positional, `{"a":1}`, 0, "", "the body must be a JSON array of 3 numbers"},
		{positional, ``, 0, "", "the body must be a JSON array of 3 numbers"},
		{positional, `[1,"2",3]`, 0, "", "the body must be a JSON array of 3 numbers"},
		{named, `{"age": 4}`, 0, "", `the body's "income" must be a number`},
		{named, `{"age": 4, "income": null}`, 0, "", `the body's "income" must be a number`},
		{named, `[4, 1]`, 0, "", "the body must be a JSON object with the numbers age, income"},
		{named, `null`, 0, "", "the body must be a JSON object with the numbers age, income"},
	} {
		s, l, err := tc.m.Score([]byte(tc.body))
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("Score(%s) error %v, want %q", tc.body, err, tc.err)
			}
			continue
		}
		if err != nil || math.Abs(s-tc.score) > 1e-12 || l != tc.label {
			t.Errorf("Score(%s) = %v, %q, %v; want %v, %q", tc.body, s, l, err, tc.score, tc.label)
		}
	}
}

// post sends body to /score of srv and returns the status and the answer.
func post(t *testing.T, srv *httptest.Server, body string) (int, string) {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+ScorePath, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestModelMode: on real loopback servers, two versions with the same model answer every input
// identically; the answer is the documented JSON; NaN answers are spread exactly at --nan-rate and
// written as Python writes them; a body the model cannot read is a 400 saying why.
func TestModelMode(t *testing.T) {
	t.Parallel()
	model := func(nan float64) *Model {
		return &Model{Weights: []float64{0.25, 0.5}, Bias: -0.1, Threshold: 0.5, Labels: DefaultLabels, NaNRate: nan}
	}
	a := httptest.NewServer(Handler(Options{Model: model(0)}))
	defer a.Close()
	b := httptest.NewServer(Handler(Options{Model: model(0)}))
	defer b.Close()
	for i := range 20 {
		body := fmt.Sprintf("[%d, %g]", i, float64(i)/7)
		sa, ra := post(t, a, body)
		sb, rb := post(t, b, body)
		if sa != 200 || sb != 200 || ra != rb {
			t.Errorf("%s: %d %q vs %d %q; want the same 200 answer", body, sa, ra, sb, rb)
		}
	}
	if _, got := post(t, a, `[1, 1]`); got != `{"score":0.65,"label":"positive"}`+"\n" {
		t.Errorf("answer to [1, 1] = %q", got)
	}
	if _, got := post(t, a, `[0, 0]`); got != `{"score":-0.1,"label":"negative"}`+"\n" {
		t.Errorf("answer to [0, 0] = %q", got)
	}
	if code, got := post(t, a, `[1]`); code != 400 || got != "bad input: the body has 1 numbers; the model reads 2\n" {
		t.Errorf("answer to [1] = %d %q, want 400 saying why", code, got)
	}
	if code, _ := post(t, a, strings.Repeat(" ", maxModelInput+1)); code != 400 {
		t.Errorf("answer to a body over %d bytes = %d, want 400", maxModelInput, code)
	}
	inf := httptest.NewServer(Handler(Options{Model: &Model{Weights: []float64{1e308}, Labels: DefaultLabels}}))
	defer inf.Close()
	if _, got := post(t, inf, `[10]`); got != `{"score":Infinity,"label":"positive"}`+"\n" {
		t.Errorf("an overflowing score = %q, want Python's Infinity", got)
	}
	nan := httptest.NewServer(Handler(Options{Model: model(0.25)}))
	defer nan.Close()
	nans := 0
	for range 40 {
		if _, got := post(t, nan, `[1, 1]`); got == `{"score":NaN,"label":"positive"}`+"\n" {
			nans++
		}
	}
	if nans != 10 {
		t.Errorf("--nan-rate 0.25 over 40 answers gave %d NaN scores, want exactly 10", nans)
	}
}

// The model mode's inputs: what each refuses, with its whole line, and the Model they build.
func TestModelInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--weights", "1,a=2"}, `invalid weights "1,a=2": allowed: comma-separated numbers ("0.5,-1,2") or NAME=NUMBER pairs ("age=0.5,income=-1") (either all weights are named or none is)`},
		{[]string{"--weights", "1", "--labels", "yes"}, `invalid labels "yes": allowed: two different labels BELOW,ABOVE, e.g. negative,positive`},
		{[]string{"--weights", "1", "--labels", "a,a"}, `invalid labels "a,a": allowed: two different labels BELOW,ABOVE, e.g. negative,positive`},
		{[]string{"--weights", "1", "--labels", "a,b,c"}, `invalid labels "a,b,c": allowed: two different labels BELOW,ABOVE, e.g. negative,positive`},
		{[]string{"--weights", "1", "--nan-rate", "1.5"}, `invalid nan-rate "1.5": allowed: a fraction from 0 to 1`},
		{[]string{"--threshold", "0.7"}, `invalid weights "": allowed: comma-separated numbers ("0.5,-1,2") or NAME=NUMBER pairs ("age=0.5,income=-1"): --threshold is a setting of the model mode, which --weights turns on`},
		{[]string{"--nan-rate", "0.1"}, `invalid weights "": allowed: comma-separated numbers ("0.5,-1,2") or NAME=NUMBER pairs ("age=0.5,income=-1"): --nan-rate is a setting of the model mode, which --weights turns on`},
	} {
		in := parseInputs(t, tc.args...)
		_, err := in.Options()
		var ie *config.InputError
		if !errors.As(err, &ie) || err.Error() != tc.want {
			t.Errorf("%v: err = %v, want\n%s", tc.args, err, tc.want)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} { // set directly: the flags refuse them already
		for _, flag := range []string{"bias", "threshold"} {
			in := NewInputs()
			in.Weights = "1"
			if flag == "bias" {
				in.Bias = v
			} else {
				in.Threshold = v
			}
			if _, err := in.Options(); err == nil || !strings.HasPrefix(err.Error(), "invalid "+flag) {
				t.Errorf("%s %v: err = %v, want an input error naming it", flag, v, err)
			}
		}
	}
	in := parseInputs(t, "--weights", "x=1,y=-2", "--bias", "0.5", "--threshold", "0", "--labels", " cat , dog ", "--nan-rate", "0.01")
	o, err := in.Options()
	if err != nil {
		t.Fatal(err)
	}
	m := o.Model
	if m == nil || !cmp.Equal(m.Weights, []float64{1, -2}) || !cmp.Equal(m.Names, []string{"x", "y"}) || m.Bias != 0.5 ||
		m.Threshold != 0 || m.Labels != [2]string{"cat", "dog"} || m.NaNRate != 0.01 {
		t.Errorf("model %+v", m)
	}
}
