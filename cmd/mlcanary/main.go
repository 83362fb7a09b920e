// Command mlcanary moves an ML model between blue and green versions on Kubernetes + Istio,
// one stage per run, from Azure DevOps, GitHub Actions or a terminal.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/mlcanary/mlcanary/internal/app"
)

// heapBeforeGC is the memory a run uses before the garbage collector first runs, unless GOGC or
// GOMEMLIMIT is set. A stage allocates a few MiB in its first 50 ms, and Go's default (a
// collection at 4 MiB, then whenever the heap doubles) collects three times in them, each taking a
// quarter of a core while the stage works. So the first collection waits for this limit (Go's GC
// guide: GOGC=off with a memory limit); after it, the garbage collector runs with Go's defaults, so
// a long run (a rollout wait, an analysis window, a crowded namespace's lists) is collected as
// usual and never against the limit.
const heapBeforeGC = 64 << 20

// collectLate delays the first garbage collection until heapBeforeGC (see there).
func collectLate() {
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		if _, set := os.LookupEnv(name); set {
			return
		}
	}
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(heapBeforeGC)
	// A finalizer runs after the first collection that finds its object unreachable.
	runtime.SetFinalizer(&[16]byte{}, func(*[16]byte) {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}

func main() {
	collectLate()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, app.StdStreams(), os.Args[1:], os.LookupEnv)
	stop()
	os.Exit(code)
}
