package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/golden"
)

// sampleTally is 60 "New Model A", 40 "New Model B", 3 status 500 and 2 timeouts, with latencies
// 1..103 ms on the responses, over 2 seconds.
func sampleTally() *Tally {
	t := &Tally{Elapsed: 2 * time.Second}
	ctx := context.Background()
	lat := time.Duration(0)
	next := func() time.Duration { lat += time.Millisecond; return lat }
	for i := range 100 {
		body := `"New Model A"`
		if i%5 >= 3 {
			body = `"New Model B"`
		}
		t.record(ctx, []byte(body), 200, nil, next())
	}
	for range 3 {
		t.record(ctx, nil, 500, nil, next())
	}
	for range 2 {
		t.record(ctx, nil, 0, timeoutErr{}, 5*time.Second)
	}
	return t
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestReportGolden(t *testing.T) {
	t.Parallel()
	tl := sampleTally()
	even := Compare(tl, []Expectation{{"New Model A", 0.5}, {"New Model B", 0.5}}, 0.99, 0.05)
	skew := Compare(tl, []Expectation{{"New Model A", 0.1}, {"New Model B", 0.9}}, 0.99, 0.05)
	tests := []struct {
		name   string
		cmp    *Comparison
		render func(*bytes.Buffer, Report) error
	}{
		{"tally.txt.golden", nil, func(b *bytes.Buffer, r Report) error { return WriteText(b, r) }},
		{"tally.json.golden", nil, func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) }},
		{"undecided.txt.golden", &even, func(b *bytes.Buffer, r Report) error { return WriteText(b, r) }},
		{"disagree.txt.golden", &skew, func(b *bytes.Buffer, r Report) error { return WriteText(b, r) }},
		{"disagree.json.golden", &skew, func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(&b, NewReport("http://127.0.0.1:5001/score", tl, tc.cmp)); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tc.name, b.String())
		})
	}
}

// Every way a load test fails its command, in the order they are judged, and a pass.
func TestReportFailure(t *testing.T) {
	t.Parallel()
	disagree := &Comparison{Verdict: Disagree, Checks: []Check{
		{Answer: "A", Expected: 0.5, Observed: 0.55, Verdict: Agree},
		{Answer: "B", Expected: 0.5, Observed: 0.3, Verdict: Disagree},
		{Answer: "C", Expected: 0, Observed: 0.15, Verdict: Disagree},
	}}
	tests := []struct {
		name string
		r    Report
		want string
	}{
		{"passes", Report{URL: "http://h/score", Completed: 10, Answered: 10}, ""},
		{"passes as expected", Report{Completed: 10, Answered: 10, Expect: &Comparison{Verdict: Agree}}, ""},
		{"interrupted", Report{Completed: 0, Interrupted: true, Expect: disagree}, "interrupted: the tally above is partial"},
		{"nothing answered", Report{URL: "http://h/score", Completed: 7, Failed: 7}, "none of the 7 requests to http://h/score was answered"},
		{"disagrees: the worst share is named", Report{Completed: 10, Answered: 10, Expect: disagree},
			`the observed split disagrees with --expect: "B" is 30.0% of answers, expected 50.0% (off by -20.0 points)`},
		{"undecided", Report{Completed: 10, Answered: 10, Expect: &Comparison{Verdict: Undecided, N: 10, Needed: 2654}},
			"too few answers (10) to check --expect; about 2654 are needed (-n)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.r.Failure()
			if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
				t.Errorf("Failure() = %v, want %q", err, tc.want)
			}
		})
	}
}
