package lock

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/watch"
)

// waiter waits for a held Lease to change, for a run that waits for the lock (Options.Wait): it
// watches the Lease from the resourceVersion read, so a release is seen the moment the API server
// makes it. When the credentials may not watch Leases (a Role with get, create and update only) or
// the watch fails at once, it polls instead: a get after 100ms, doubling up to a third of the
// lease's duration (at most 2s).
type waiter struct {
	s       Store
	o       Options
	polling bool          // the watch failed: poll from now on
	every   time.Duration // the next poll's delay (0: the first)
}

// watchFailedWithin: a watch that ends this soon without an event failed (a proxy that cuts
// watches, a server that refuses them with an error event): polling it would spin.
const watchFailedWithin = time.Second

// await returns when the Lease may have changed since resourceVersion rv, or d has passed: the
// caller reads it again. lease is the lease's duration. Its error is ctx's.
func (w *waiter) await(ctx context.Context, rv string, d, lease time.Duration) error {
	if !w.polling {
		start := time.Now()
		if changed, err := w.watch(ctx, rv, d); changed || err != nil {
			return err
		}
		w.polling = true
		d -= time.Since(start)
	}
	wait := min(max(w.every, 100*time.Millisecond), d)
	w.every = min(2*max(w.every, 100*time.Millisecond), poll(lease))
	return sleep(ctx, max(wait, 0))
}

// watch watches the Lease from rv for up to d: true when it changed, d passed or the watch ended
// normally (read it again); false when the watch failed (poll instead); ctx's error.
func (w *waiter) watch(ctx context.Context, rv string, d time.Duration) (bool, error) {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	wi, err := w.s.Watch(wctx, w.o.Namespace, w.o.Name, rv)
	if err != nil {
		return false, ctx.Err()
	}
	defer wi.Stop()
	for {
		select {
		case <-wctx.Done():
			return true, ctx.Err()
		case ev, ok := <-wi.ResultChan():
			switch {
			case ok && ev.Type == watch.Bookmark:
				continue
			case ok && ev.Type != watch.Error:
				return true, nil
			}
			// Ended, or an error event: a watch cut by its request's timeout is read again and
			// watched again; one that fails at once would spin.
			return time.Since(start) >= watchFailedWithin, ctx.Err()
		}
	}
}

// poll is how often a run that cannot watch reads a held lock at most: a third of its duration,
// at most 2s.
func poll(d time.Duration) time.Duration {
	return max(min(d/3, 2*time.Second), 100*time.Millisecond)
}
