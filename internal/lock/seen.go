package lock

import (
	"context"
	"errors"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Seen is the lock as a stage read it before its first read of the release (Peek): a stage that
// then writes nothing needs no lock, and one that writes takes it only if it is still as seen
// (TakeSeen), which proves that no other run wrote anything since — every run that writes holds
// the lock, taking and releasing it are writes of the Lease, and the Lease is never deleted
// (Release) — so what the stage read still stands.
type Seen struct {
	lease *coordinationv1.Lease // nil: there was none
	date  time.Time             // the Date of the API server's answer
	o     Options
}

// Peek reads the lock (one get) for a stage about to read the release.
func Peek(ctx context.Context, s Store, o Options) (Seen, error) {
	o = o.defaults()
	live, date, err := s.Get(ctx, o.Namespace, o.Name)
	if err != nil {
		return Seen{}, explain(ctx, s, o, err, "reading", false)
	}
	return Seen{lease: live, date: date, o: o}, nil
}

// Busy is the *HeldError of another run holding the lock as seen, or nil when it was free or its
// holder had stopped renewing (Record.Stale: on the API server's clock, never this run's).
func (seen Seen) Busy() *HeldError {
	rec, held := recordAt(seen.lease, seen.date)
	if held && !rec.Stale() {
		return &HeldError{Namespace: seen.o.Namespace, Name: seen.o.Name, Record: rec}
	}
	return nil
}

// TakeSeen takes the lock as seen, before the stage's first write: one create when there was
// none, else one update at the resourceVersion seen (a free lock, or one whose holder had stopped
// renewing: one line on the log says it is taken over). fresh is true then: nobody wrote since
// the stage's reads. When the lock was held, or changed since it was seen, TakeSeen is Take — it
// fails at once or waits up to Options.Wait — and fresh is false: the stage must read again.
func TakeSeen(ctx context.Context, s Store, seen Seen) (l *Lock, stageCtx context.Context, fresh bool, err error) {
	o := seen.o
	if seen.Busy() == nil {
		held, err := takeSeen(ctx, s, seen)
		var sent *unknownWrite
		switch {
		case errors.As(err, &sent):
			abandon(s, o, sent.lease)
			return nil, nil, false, err
		case err == nil:
			l, stageCtx := hold(ctx, s, o, held)
			return l, stageCtx, true, nil
		case !apierrors.IsAlreadyExists(err) && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err):
			return nil, nil, false, err
		}
	}
	l, stageCtx, err = Take(ctx, s, o)
	return l, stageCtx, false, err
}

// takeSeen writes the lock as seen, held by this run: a create, or an update at its
// resourceVersion. AlreadyExists, Conflict and NotFound (someone wrote it since) are returned as
// they are, any other refusal explained in one sentence; an answer never got is an *unknownWrite.
func takeSeen(ctx context.Context, s Store, seen Seen) (*coordinationv1.Lease, error) {
	o, now := seen.o, seen.o.Now()
	var got *coordinationv1.Lease
	var err error
	sent, verb := lease(o.Namespace, o.Name, o.Holder, now, o.Duration), "creating"
	if seen.lease == nil {
		got, err = s.Create(ctx, sent)
	} else {
		sent, verb = takeOver(seen.lease, o, now), "taking over"
		got, err = s.Update(ctx, sent)
	}
	if unknownOutcome(err) {
		return nil, &unknownWrite{lease: sent, err: explain(ctx, s, o, err, verb, true)}
	}
	if err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		return nil, explain(ctx, s, o, err, verb, true)
	}
	if rec, held := recordAt(seen.lease, seen.date); err == nil && held {
		tookOver(o, rec, 0)
	}
	return got, err
}
