package lock

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// keep renews the lock every third of its duration until Release. When another run took it over,
// or it could not be renewed before the next run could take it over, it cancels the stage's
// context with a *LostError: a stage never goes on writing without the lock.
func (l *Lock) keep() {
	defer close(l.done)
	every := l.o.Duration / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		// A renewal may take until the lock could be taken over: past that, it is lost anyway.
		err := l.renew(l.o.Duration - l.o.Now().Sub(l.lastRenewed()))
		var lost *LostError
		switch {
		case err == nil:
			continue
		case errors.As(err, &lost):
		case l.o.Now().Sub(l.lastRenewed())+every < l.o.Duration:
			continue // try again at the next tick, still before the lock could expire
		default:
			lost = &LostError{Namespace: l.o.Namespace, Name: l.o.Name, Reason: fmt.Sprintf("it could not be renewed for %s: %v", ago(l.o.Now().Sub(l.lastRenewed())), err)}
		}
		l.mu.Lock()
		l.held = nil
		l.mu.Unlock()
		l.cancel(lost)
		return
	}
}

func (l *Lock) lastRenewed() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.renewed
}

// renew writes a new renewTime as of the resourceVersion this run last wrote. A conflict is read:
// the lock is still this run's when someone only touched the object (a label), else it was lost.
func (l *Lock) renew(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l.mu.Lock()
	mine := l.held.DeepCopy()
	l.mu.Unlock()
	now := l.o.Now()
	mine.Spec.RenewTime = microTime(now) // mine is this call's copy; same() reads only holder and acquireTime
	got, err := l.store.Update(ctx, mine)
	if apierrors.IsConflict(err) {
		live, _, gerr := l.store.Get(ctx, l.o.Namespace, l.o.Name)
		if gerr != nil {
			return gerr
		}
		if live == nil || !same(live, mine) {
			return l.lostTo(live)
		}
		live.Spec.RenewTime = microTime(now)
		got, err = l.store.Update(ctx, live)
	}
	if apierrors.IsNotFound(err) {
		return l.lostTo(nil)
	}
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.held, l.renewed = got, now
	l.mu.Unlock()
	return nil
}

// same reports whether live is still the holding mine took: the same holder since the same time.
func same(live, mine *coordinationv1.Lease) bool {
	a, b := live.Spec, mine.Spec
	return a.HolderIdentity != nil && b.HolderIdentity != nil && *a.HolderIdentity == *b.HolderIdentity &&
		a.AcquireTime != nil && b.AcquireTime != nil && a.AcquireTime.Equal(b.AcquireTime)
}

func (l *Lock) lostTo(live *coordinationv1.Lease) *LostError {
	e := &LostError{Namespace: l.o.Namespace, Name: l.o.Name, Reason: "someone deleted it"}
	if rec, ok := RecordOf(live); ok {
		e.Reason = "it is now held by " + rec.Describe()
	} else if live != nil {
		e.Reason = "someone released it"
	}
	return e
}

// Release stops renewing and frees the Lease if it is still as this run last wrote it (one
// update blanking its holder; when someone wrote it since but it is still this run's holding, a
// get and an update of it as it is now), so the next run takes it at once. The Lease is never
// deleted: a run that read it free can take it only at the resourceVersion it read (TakeSeen), so
// no release and retake can happen unseen between that read and its own take. It is called when
// the stage ends, whatever its outcome, also after Ctrl-C or SIGTERM (its own 10s deadline, not
// the stage's context). A lock already lost is not touched. An error says the lock could not be
// released; it then expires Duration after its last renewal.
func (l *Lock) Release() error {
	close(l.stop)
	<-l.done
	l.cancel(errReleased)
	l.mu.Lock()
	held := l.held
	l.held = nil
	l.mu.Unlock()
	if held == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := l.store.Update(ctx, free(held, l.o.Now()))
	if apierrors.IsConflict(err) {
		// Written since this run's last write it knows of: by someone else (a label), or by its own
		// renewal whose answer it never got. Still this run's holding: free it as it is now.
		err = freeIfHeld(ctx, l.store, l.o, held)
	}
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return fmt.Errorf("%w (it is free again %s after its last renewal)", explain(ctx, l.store, l.o, err, "releasing", false), l.o.Duration)
}

// freeIfHeld frees the Lease as it is now when it is still the holding mine took (same): a get
// and an update; nil when it is gone or someone else's.
func freeIfHeld(ctx context.Context, s Store, o Options, mine *coordinationv1.Lease) error {
	live, _, err := s.Get(ctx, o.Namespace, o.Name)
	if err != nil || live == nil || !same(live, mine) {
		return err
	}
	_, err = s.Update(ctx, free(live, o.Now()))
	return err
}

// free is l released at `at`: no holder (RecordOf reads it as free), its resourceVersion, duration
// and others' metadata kept.
func free(l *coordinationv1.Lease, at time.Time) *coordinationv1.Lease {
	f := l.DeepCopy()
	delete(f.Annotations, RunAnnotation)
	delete(f.Annotations, StageAnnotation)
	f.Spec.HolderIdentity, f.Spec.AcquireTime, f.Spec.RenewTime = nil, nil, microTime(at)
	return f
}

// Lost is the *LostError that cancelled the stage's context, or nil.
func Lost(stageCtx context.Context) *LostError {
	var lost *LostError
	if errors.As(context.Cause(stageCtx), &lost) {
		return lost
	}
	return nil
}
