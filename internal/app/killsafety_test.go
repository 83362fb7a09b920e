package app

import (
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/testenv"
)

// killCase is one stage of the documented sequence, run on the state the stages in before leave.
type killCase struct {
	name   string
	before []stageRun
	run    stageRun
}

// stageRun is a stage and the image it is given (--image).
type stageRun struct{ stage, image string }

const imgOld, imgNew = "myacr.azurecr.io/model:1", "myacr.azurecr.io/model:2"

// killCases are every stage of a first release (from an empty namespace), of the next release
// (from green only), and Rollback from each stage of that release it may follow.
func killCases() []killCase {
	seq := func(image string, stages ...string) []stageRun {
		var out []stageRun
		for _, s := range stages {
			out = append(out, stageRun{s, image})
		}
		return out
	}
	first := seq(imgOld, "Blue_0", "Blue_50", "Blue_100", "Blue_Green", "Green_100")
	next := seq(imgNew, "Blue_0", "Blue_50", "Blue_100", "Blue_Green", "Green_100")
	var cases []killCase
	for i, s := range first {
		cases = append(cases, killCase{name: "first " + s.stage, before: first[:i], run: s})
	}
	for i, s := range next {
		cases = append(cases, killCase{name: "next " + s.stage, before: append(slices.Clone(first), next[:i]...), run: s})
	}
	for i := range 4 { // Rollback after Blue_0, Blue_50, Blue_100 and Blue_Green of the next release
		cases = append(cases, killCase{name: "Rollback after " + next[i].stage, before: append(slices.Clone(first), next[:i+1]...), run: stageRun{"Rollback", imgNew}})
	}
	// The next release with its optional Shadow stage: Shadow_10 after Blue_0, and the stages that
	// take the mirror away — Blue_50 (in the write that gives blue its weight) and Rollback (before
	// blue is deleted).
	shadow := stageRun{"Shadow_10", imgNew}
	shadowed := append(slices.Clone(first), next[0], shadow)
	cases = append(cases,
		killCase{name: "next Shadow_10", before: append(slices.Clone(first), next[0]), run: shadow},
		killCase{name: "next Blue_50 after Shadow_10", before: shadowed, run: next[1]},
		killCase{name: "Rollback after Shadow_10", before: shadowed, run: stageRun{"Rollback", imgNew}})
	// The next release with green scaled by a HorizontalPodAutoscaler: the stages that write the
	// autoscalers or hand replicas over to them (Blue_0 gives blue a copy, Blue_Green gives green
	// blue's settings, Green_100 and Rollback remove blue's copy).
	scaled := append(slices.Clone(first), stageRun{stage: hpaGreen})
	for i, s := range next {
		if s.stage == "Blue_0" || s.stage == "Blue_Green" || s.stage == "Green_100" {
			cases = append(cases, killCase{name: "autoscaled " + s.stage, before: append(slices.Clone(scaled), next[:i]...), run: s})
		}
	}
	cases = append(cases, killCase{name: "autoscaled Rollback after Blue_0", before: append(slices.Clone(scaled), next[0]), run: stageRun{"Rollback", imgNew}})
	return cases
}

// hpaGreen, as a stage of a case's setup, gives green a HorizontalPodAutoscaler (as a platform
// team would, with kubectl).
const hpaGreen = "+hpa-green"

// TestKilledAtEveryWrite: for every stage of a first release, of the next release and of Rollback,
// and for every k from 1 to the number of writes the stage makes in a clean run (measured by the
// proxy, so a new write grows the table), the stage's process is killed right after its k-th write
// reached the API server — with SIGKILL, SIGTERM (the agent's cancel) and SIGINT (Ctrl-C) — and the
// same stage is run again. At every write of every run (the killed one, and the re-run), right
// after the kill and at the end, no route points at a Service or Deployment that is missing, being
// deleted or not rolled out, and no version's pods are replaced or deleted sooner than the drain
// (5s) after its last route was removed. A SIGTERM or SIGINT stops the stage (exit 0 or 1) and
// releases the lock; the re-run converges to the state the clean run ends in.
func TestKilledAtEveryWrite(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	killTable(t, e, killCases(), false)
}

// TestKilledAtTheLock: as TestKilledAtEveryWrite, for one stage, with the lock's create and
// release counted among the writes: a run signalled right after it took the lock, or right after
// it released it, leaves the lock free (SIGTERM, SIGINT) or to expire (SIGKILL), and the next run
// converges.
func TestKilledAtTheLock(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	var cases []killCase
	for _, c := range killCases() {
		if c.name == "next Blue_50" {
			cases = append(cases, c)
		}
	}
	killTable(t, e, cases, true)
}

// killSignals are the signals every pair is tried with: SIGKILL, the agent's cancel (SIGTERM) and
// Ctrl-C or the agent's first signal (SIGINT).
var killSignals = []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT}

// killTable runs each case clean, counting its writes (with the lock's create and release when
// lockWrites), then every (case, k, signal) pair, several at a time (most of a pair's time is
// waiting: for the lock a SIGKILL leaves, for the drain), and logs the table.
func killTable(t *testing.T, e *testenv.Env, cases []killCase, lockWrites bool) {
	start := time.Now()
	writes := map[string]int{}
	want := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newKillRig(t, e, c, 0, 0, lockWrites)
			defer r.cleanup()
			r.setup()
			code, out := r.runStage(0)
			if code != ExitOK {
				r.fatalf("%s: exit %d\n%s", r, code, out)
			}
			r.observe("the clean run's end")
			mu.Lock()
			writes[c.name], want[c.name] = r.count(), r.fingerprint()
			mu.Unlock()
			if r.count() == 0 {
				t.Errorf("%s: wrote nothing", r)
			}
			r.report()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("clean runs: %s", time.Since(start).Round(time.Millisecond))

	type pair struct {
		c   killCase
		k   int
		sig syscall.Signal
	}
	var pairs []pair
	for _, c := range cases {
		for _, sig := range killSignals {
			for k := 1; k <= writes[c.name]; k++ {
				pairs = append(pairs, pair{c, k, sig})
			}
		}
	}
	var done atomic.Int64
	sem := make(chan struct{}, killParallel)
	for _, p := range pairs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := newKillRig(t, e, p.c, p.k, p.sig, lockWrites)
			defer r.cleanup()
			r.killAndRerun(want[p.c.name])
			done.Add(1)
		}()
	}
	wg.Wait()

	t.Logf("%d (stage, k, signal) pairs in %s, %d at a time; writes per clean run:", len(pairs), time.Since(start).Round(time.Millisecond), killParallel)
	total := 0
	for _, c := range cases {
		t.Logf("  %-34s k = 1..%d × %d signals", c.name, writes[c.name], len(killSignals))
		total += writes[c.name] * len(killSignals)
	}
	if n := int(done.Load()); n != total {
		t.Errorf("%d of %d pairs ran to the end", n, total)
	}
}

// killParallel is how many pairs run at a time.
const killParallel = 10

// killLockSeconds is the lock's duration of the stage's process: how long the run after a SIGKILL
// waits to take the lock over. Shorter than the shipped 30s so the table runs in minutes; long
// enough that a run on a busy machine renews it in time (3s was not, at a load of 30 on 2 cores).
const killLockSeconds = 10
