package loadtest

import (
	"context"
	"testing"
	"time"
)

// BenchmarkRecord measures counting one answer and its latency; it should not allocate, which is
// what keeps memory flat in the number of requests.
func BenchmarkRecord(b *testing.B) {
	var t Tally
	ctx := context.Background()
	bodies := [][]byte{[]byte(`"New Model A"`), []byte(`"New Model B"`)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t.record(ctx, bodies[i&1], 200, nil, time.Duration(i%5000)*time.Microsecond)
	}
}

// TestRecordDoesNotAllocate: counting an answer seen before, or a status error, allocates nothing,
// so the tally's memory is fixed however many requests are sent.
func TestRecordDoesNotAllocate(t *testing.T) {
	var tl Tally
	ctx := context.Background()
	body := []byte(`"New Model A"`)
	tl.record(ctx, body, 200, nil, time.Millisecond)
	tl.record(ctx, nil, 503, nil, time.Millisecond)
	if a := testing.AllocsPerRun(1000, func() { tl.record(ctx, body, 200, nil, time.Millisecond) }); a != 0 {
		t.Errorf("recording a known answer allocates %.0f times", a)
	}
	if a := testing.AllocsPerRun(1000, func() { tl.record(ctx, nil, 503, nil, time.Millisecond) }); a != 0 {
		t.Errorf("recording a known status error allocates %.0f times", a)
	}
	if got := tl.Count("New Model A"); got != 1002 {
		t.Errorf("count %d, want 1002", got)
	}
}
