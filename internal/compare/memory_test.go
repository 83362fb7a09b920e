package compare

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMemoryOfLargeAnswers (found by the second #11 break-it review, D5): answers of 11 MB (a batch
// of a million floats, within MaxAnswerBytes) at -c 2 and the default -c 10 keep the heap within
// the documented bound (MemoryBound) above its baseline (it was 765 MiB at -c 2 and 3.8 GiB at -c 10
// before decoding was bounded and numbers went straight to the statistics), measured every 5 ms while compare runs. The
// gateway and the two model servers run in this process and hold copies of the answers too: they
// are allowed 4 answers per line in flight on top of the bound.
func TestMemoryOfLargeAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap with 11 MB answers")
	}
	batch := "[" + strings.Repeat("0.12345678,", 1_000_000) + "0]"
	gw := routed(t, answers(batch), answers(batch), "/score")
	for _, c := range []int{2, 10} {
		o := options(gw)
		o.Concurrency = c
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		done, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			var m runtime.MemStats
			for {
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}()
		r := run(t, grid(c), o)
		close(done)
		<-stopped
		if r.Agreed != c {
			t.Fatalf("setup: %d agreed: %s", r.Agreed, r.Reason)
		}
		grew := int64(peak.Load()) - int64(base.HeapInuse)
		limit := MemoryBound(c) + int64(4*c*len(batch))
		t.Logf("-c %d, %d-byte answers: heap peaked %d MiB above its baseline (bound %d MiB + the test servers' %d MiB)",
			c, len(batch), grew>>20, MemoryBound(c)>>20, (4*c*len(batch))>>20)
		if grew > limit {
			t.Errorf("-c %d: heap grew %d MiB at its peak, above %d MiB", c, grew>>20, limit>>20)
		}
	}
}
