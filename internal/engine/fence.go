package engine

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Fence is the namespace's lock as a stage uses it (package lock; the front end builds it and
// releases it when the stage ends). The stage reads the lock before its first read (Peek) and
// takes it right before its first write (Take), so a stage that writes nothing — a re-run that
// holds — writes nothing at all, not even the lock. Taking it as it was peeked proves that no
// other run wrote in between; when that fails, the stage reads and decides again holding it.
type Fence interface {
	// Peek reads the lock.
	Peek(ctx context.Context) error
	// Busy reports whether another run held the lock when it was peeked.
	Busy() bool
	// Held reports whether this run holds the lock.
	Held() bool
	// Take takes the lock; again reports that it changed since Peek (or was busy), so what the
	// stage read may be stale. It fails when another run holds it (after waiting, with a lock
	// timeout), naming the holder.
	Take(ctx context.Context) (again bool, err error)
}

type fenceKey struct{}

// WithFence is ctx carrying the fence a stage performed with it takes (Client.Stage): the front
// end's lock, which it releases when the stage ends.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

func fenceOf(ctx context.Context) Fence {
	f, _ := ctx.Value(fenceKey{}).(Fence)
	return f
}

// errReadAgain stops a stage at its first write when the lock it just took had changed since the
// stage read it: nothing was written, and the stage starts over holding the lock.
var errReadAgain = errors.New("the namespace's lock changed hands since the stage read the cluster")

// fenced is a Cluster whose first write takes the fence.
type fenced struct {
	Cluster
	fence Fence
}

// fenceError is the fence's refusal at the stage's first write (another run holds the lock, or
// it could not be taken): nothing was written, so the stage fails with it alone, as if refused
// before it began.
type fenceError struct{ err error }

func (e *fenceError) Error() string { return e.err.Error() }
func (e *fenceError) Unwrap() error { return e.err }

func (f fenced) take(ctx context.Context, dryRun bool) error {
	if dryRun || f.fence.Held() {
		return nil
	}
	again, err := f.fence.Take(ctx)
	if err != nil {
		return &fenceError{err: err}
	}
	if again {
		return errReadAgain
	}
	return nil
}

func (f fenced) Apply(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	if err := f.take(ctx, dryRun); err != nil {
		return nil, err
	}
	return f.Cluster.Apply(ctx, gvr, obj, dryRun)
}

func (f fenced) Delete(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, dryRun bool) error {
	if err := f.take(ctx, dryRun); err != nil {
		return err
	}
	return f.Cluster.Delete(ctx, gvr, ns, name, dryRun)
}

// fencedStage performs the stage behind fence: Peek, then the stage with its writes fenced (unless
// this run holds the lock already). When another run holds the lock the stage takes it first (it
// fails at once, or waits), as it would have to write or to say that it holds; a stage stopped by
// errReadAgain is performed again holding the lock.
func (c *Client) fencedStage(ctx context.Context, cfg config.Config, log Logger, fence Fence) (*summary.Result, error) {
	if fence.Held() { // a stage after one that took it (an automatic Rollback): nothing to fence
		return c.stage(ctx, cfg, log)
	}
	if err := fence.Peek(ctx); err != nil {
		return nil, named(cfg.Stage, err)
	}
	if fence.Busy() {
		// Another run holds it (and may be mid-change): as before any stage, fail at once naming it,
		// or wait for it (a lock timeout), then read holding it.
		if _, err := fence.Take(ctx); err != nil {
			return nil, named(cfg.Stage, err)
		}
		return c.stage(ctx, cfg, log)
	}
	f := *c
	f.cluster = fenced{Cluster: c.cluster, fence: fence}
	res, err := f.stage(ctx, cfg, log)
	if errors.Is(err, errReadAgain) {
		log("%s: %v: reading it again holding the lock", cfg.Stage, errReadAgain)
		return f.stage(ctx, cfg, log)
	}
	return res, err
}
