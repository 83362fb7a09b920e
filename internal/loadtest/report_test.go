package loadtest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got)\n%s", path, diff)
	}
}

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
			golden(t, tc.name, b.Bytes())
		})
	}
}
