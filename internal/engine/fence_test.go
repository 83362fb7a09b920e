package engine_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/lock"
)

const (
	getLease    = "GET leases/mlcanary"
	createLease = "POST v1/leases"
	updateLease = "PUT leases/mlcanary"
)

// fenced performs c as every front end does (frontend.TakeLock): with the namespace's lock as the
// stage's fence, its requests counted by f's recorder, and released at the end.
func (f *fixture) fenced(c config.Config, take func(engine.Fence) engine.Fence) error {
	f.t.Helper()
	rc := rest.CopyConfig(env.Config)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { f.rec.next = keepIstioWrites(f.t, rt); return f.rec })
	c.Lock.Holder = "https://dev.azure.com/acme/scoring/_build/results?buildId=7"
	ctx, fence, release, err := frontend.TakeLock(3*time.Second)(context.Background(), rc, c, f.t.Logf)
	if err != nil {
		f.t.Fatal(err)
	}
	if take != nil {
		fence = take(fence)
	}
	_, err = f.cl.Stage(engine.WithFence(ctx, fence), c, f.t.Logf)
	f.rec.assertSafe(f.t)
	if rerr := release(); rerr != nil {
		f.t.Errorf("release: %v", rerr)
	}
	return err
}

// sentNamed is what was sent since the last reset, named by requestOf.
func (f *fixture) sentNamed() []string {
	var out []string
	for _, line := range f.rec.sentSince() {
		out = append(out, requestOf(line))
	}
	return out
}

// TestAStageTakesTheLockOnlyToWrite: through the front ends' lock, a stage reads the lock before
// anything else, takes it right before its first write and releases it at the end; a re-run that
// holds reads it and writes nothing at all — not even the lock.
func TestAStageTakesTheLockOnlyToWrite(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // green and a new blue at 0%
	for i, c := range []struct {
		stage  string
		writes []string
	}{
		{"Blue_50", []string{createLease, patchVS, updateLease}},
		{"Blue_50", nil},
		{"Blue_60", []string{updateLease, patchVS, updateLease}},
		{"Blue_60", nil},
	} {
		f.rec.reset()
		if err := f.fenced(f.cfg(c.stage, ""), nil); err != nil {
			t.Fatalf("%s: %v", c.stage, err)
		}
		sent := f.sentNamed()
		if len(sent) == 0 || sent[0] != getLease {
			t.Errorf("%d %s: first request %q, want %q before the stage's reads", i, c.stage, sent, getLease)
		}
		var writes []string
		for _, s := range sent {
			if !strings.HasPrefix(s, "GET ") && !strings.HasPrefix(s, "LIST ") && !strings.HasPrefix(s, "WATCH ") {
				writes = append(writes, s)
			}
		}
		if !slices.Equal(writes, c.writes) {
			t.Errorf("%d %s: writes %q, want %q", i, c.stage, writes, c.writes)
		}
		if c.writes == nil && len(sent) > 1+len(observed) {
			t.Errorf("%d %s holds: sent %d requests %q, want the lock's get and the %d observed reads", i, c.stage, len(sent), sent, len(observed))
		}
	}
}

// racing is a fence whose first Take lets another run take the lock, write and release it first:
// the write that makes what the stage read stale lands between its reads and its take.
type racing struct {
	engine.Fence
	once  sync.Once
	other func()
}

func (r *racing) Take(ctx context.Context) (bool, error) {
	r.once.Do(r.other)
	return r.Fence.Take(ctx)
}

// TestAStageReadsAgainWhenTheLockChangedHands: when another run took the lock, wrote and
// released it between a stage's reads and its first write, the stage writes nothing on what it
// read: it takes the lock, reads and decides again, and does exactly its stage on what is there
// now. Here the other run rolled back blue, so Blue_50 finds no blue and is refused, writing
// nothing but the lock; traffic stays on green.
func TestAStageReadsAgainWhenTheLockChangedHands(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // green and a new blue at 0%
	rollback := func() {
		if err := f.fenced(f.cfg("Rollback", ""), nil); err != nil {
			t.Errorf("the other run's Rollback: %v", err)
		}
	}
	f.rec.reset()
	err := f.fenced(f.cfg("Blue_50", ""), func(fence engine.Fence) engine.Fence { return &racing{Fence: fence, other: rollback} })
	if err == nil || !strings.Contains(err.Error(), "Blue_50:") {
		t.Fatalf("Blue_50 after a Rollback slipped in: %v, want it refused (blue is gone)", err)
	}
	if routing, _ := f.live(); routing.Weights[config.Blue] != 0 || routing.Weights[config.Green] != 100 {
		t.Errorf("weights after the refused Blue_50: %v, want all on green", routing.Weights)
	}
}

// TestAHoldingReRunWhileAnotherRunHoldsTheLockIsRefused: a re-run that would write nothing while
// another run holds the lock (that run may be mid-change) does not report that its stage holds: it
// needs the lock to say so, and fails at once naming the holder, as a stage that writes does.
func TestAHoldingReRunWhileAnotherRunHoldsTheLockIsRefused(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // green and a new blue at 0%
	s, err := lock.NewStore(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := lock.Take(context.Background(), s, lock.Options{Namespace: f.ns, Name: "mlcanary", Holder: lock.Holder{Run: "bob@desk", Stage: "Rollback"}, Duration: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Release() }()
	err = f.fenced(f.cfg("Blue_0", imgB), nil)
	if err == nil || !strings.Contains(err.Error(), "bob@desk for stage Rollback") {
		t.Errorf("a holding Blue_0 while bob holds the lock: %v, want refused naming bob", err)
	}
}
