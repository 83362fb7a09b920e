package loadtest

import (
	"bytes"
	"context"
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
