package lock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Options say which lock to take, for whom, and how long to wait for it.
type Options struct {
	// Namespace and Name are the Lease's (config.Lock.Name).
	Namespace, Name string
	Holder          Holder
	// Duration is how long the lock outlives this holder's last renewal (default DefaultDuration,
	// whole seconds); the holder renews it every third of it.
	Duration time.Duration
	// Wait is how long to wait while another run holds the lock (--lock-timeout); 0 fails at once.
	Wait time.Duration
	// Log prints a progress line: waiting for the lock, taking over a holder that stopped renewing.
	Log func(format string, args ...any)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Lock is a lock this run holds; Release ends it.
type Lock struct {
	store  Store
	o      Options
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	held    *coordinationv1.Lease // as last written by this run; nil once lost
	renewed time.Time
}

// Take takes the lock for o.Holder and returns it with a context for the stage, derived from ctx,
// that is cancelled (its cause a *LostError) if the lock is lost while the stage runs. Requests: a
// create when the lock is free; else a get, and an update to take over a lock whose holder stopped
// renewing (one line on o.Log says so). While another run holds it, Take fails at once with a
// *HeldError, or with o.Wait waits (waiter: a watch of the Lease, a get after each change) until
// it is free, its holder stops renewing, or o.Wait has passed (*HeldError). Another failed request
// is a *kube.APIError.
func Take(ctx context.Context, s Store, o Options) (*Lock, context.Context, error) {
	o = o.defaults()
	held, err := acquire(ctx, s, o)
	if err != nil {
		var sent *unknownWrite
		if errors.As(err, &sent) {
			abandon(s, o, sent.lease)
		}
		return nil, nil, err
	}
	l, stageCtx := hold(ctx, s, o, held)
	return l, stageCtx, nil
}

// defaults fills in o's defaults (Take's documentation).
func (o Options) defaults() Options {
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	o.Duration = o.Duration.Truncate(time.Second)
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// hold starts holding held: renewing it until Release, with the stage's context.
func hold(ctx context.Context, s Store, o Options, held *coordinationv1.Lease) (*Lock, context.Context) {
	stageCtx, cancel := context.WithCancelCause(ctx)
	l := &Lock{store: s, o: o, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{}), held: held, renewed: o.Now()}
	go l.keep()
	return l, stageCtx
}

// acquire creates the Lease, or takes it over when it is free or its holder stopped renewing.
func acquire(ctx context.Context, s Store, o Options) (*coordinationv1.Lease, error) {
	var waitFrom, seenAt time.Time // when waiting began; when the live resourceVersion was first seen
	var seenRV string
	w := waiter{s: s, o: o}
	create := false // read first: a Lease, once created, stays (Release frees it)
	for {
		if create {
			sent := lease(o.Namespace, o.Name, o.Holder, o.Now(), o.Duration)
			got, err := s.Create(ctx, sent)
			if unknownOutcome(err) {
				return nil, &unknownWrite{lease: sent, err: explain(ctx, s, o, err, "creating", true)}
			}
			if err == nil {
				if !waitFrom.IsZero() {
					tookAfter(o, waitFrom)
				}
				return got, nil
			}
			if !apierrors.IsAlreadyExists(err) {
				return nil, explain(ctx, s, o, err, "creating", true)
			}
		}
		live, date, err := s.Get(ctx, o.Namespace, o.Name)
		if err != nil {
			return nil, explain(ctx, s, o, err, "reading", false)
		}
		if create = live == nil; create { // released in between
			continue
		}
		now := o.Now()
		if live.ResourceVersion != seenRV {
			seenRV, seenAt = live.ResourceVersion, now
		}
		rec, isHeld := recordAt(live, date)
		// Not written for a whole duration by the API server's clock, or seen unchanged for that
		// long by ours: either way its holder stopped renewing, whatever the machines' clocks say.
		unseen := rec.Duration - now.Sub(seenAt)
		stale := isHeld && (rec.Stale() || unseen <= 0)
		if !isHeld || stale {
			took := takeOver(live, o, now)
			got, err := s.Update(ctx, took)
			if unknownOutcome(err) {
				return nil, &unknownWrite{lease: took, err: explain(ctx, s, o, err, "taking over", true)}
			}
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				continue // someone else wrote it first: read again
			}
			if err != nil {
				return nil, explain(ctx, s, o, err, "taking over", true)
			}
			if stale {
				tookOver(o, rec, now.Sub(seenAt))
			} else if !waitFrom.IsZero() {
				tookAfter(o, waitFrom)
			}
			return got, nil
		}
		if o.Wait <= 0 {
			return nil, &HeldError{Namespace: o.Namespace, Name: o.Name, Record: rec}
		}
		if waitFrom.IsZero() {
			waitFrom = now
			o.Log("waiting up to %s for the lock: Lease %s/%s is held by %s", o.Wait, o.Namespace, o.Name, rec.Describe())
		}
		left := o.Wait - now.Sub(waitFrom)
		if left <= 0 {
			return nil, &HeldError{Namespace: o.Namespace, Name: o.Name, Record: rec, Waited: o.Wait}
		}
		// Until it changes (read it again then), or either rule could find it stale.
		until := min(left, unseen)
		if in, ok := rec.staleIn(); ok {
			until = min(until, max(in, 50*time.Millisecond))
		}
		if err := w.await(ctx, live.ResourceVersion, until, rec.Duration); err != nil {
			return nil, fmt.Errorf("waiting for the lock Lease %s/%s held by %s: %w", o.Namespace, o.Name, rec.Describe(), err)
		}
	}
}

// takeOver is live, free or held by a run that stopped renewing, taken by o.Holder at now: one
// more leaseTransitions, live's resourceVersion and others' metadata kept.
func takeOver(live *coordinationv1.Lease, o Options, now time.Time) *coordinationv1.Lease {
	took := live.DeepCopy()
	take(took, o.Holder, now, o.Duration)
	n := int32(1)
	if live.Spec.LeaseTransitions != nil {
		n += *live.Spec.LeaseTransitions
	}
	took.Spec.LeaseTransitions = &n
	return took
}

// tookOver says that the lock was taken over from rec's holder, who stopped renewing it: unseen is
// how long this run saw it unchanged.
func tookOver(o Options, rec Record, unseen time.Duration) {
	since, what, age := "", "renewed", "over "+ago(unseen)
	if !rec.Since.IsZero() {
		since = ", held since " + stamp(rec.Since)
	}
	if rec.Renewed.IsZero() {
		what = "written"
	}
	if a, ok := rec.age(); ok && a > unseen {
		age = ago(a)
	}
	o.Log("took over the lock Lease %s/%s from %s%s: it was last %s %s ago, past its %s duration (a killed run?)",
		o.Namespace, o.Name, rec.Who(), since, what, age, rec.Duration)
}

// tookAfter says that the lock was taken after waiting since waitFrom.
func tookAfter(o Options, waitFrom time.Time) {
	o.Log("took the lock Lease %s/%s after waiting %s", o.Namespace, o.Name, ago(o.Now().Sub(waitFrom)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// explain is a failed request on the Lease in one sentence naming what refused it: an RBAC refusal
// names the verb on leases.coordination.k8s.io the credentials lack.
func explain(ctx context.Context, s Store, o Options, err error, verb string, write bool) error {
	object := fmt.Sprintf("Lease %s/%s", o.Namespace, o.Name)
	w := ""
	if write {
		w = object
	}
	return s.Explain(ctx, err, verb+" "+object+" (the namespace's lock)", o.Namespace, w)
}

// unknownWrite is a write of the Lease whose answer the run never got: its context ended (Ctrl-C,
// SIGTERM) or the connection failed while the request was in flight, so the API server may have
// made this run the holder. Take then undoes it (abandon).
type unknownWrite struct {
	lease *coordinationv1.Lease // as sent
	err   error
}

func (u *unknownWrite) Error() string { return u.err.Error() }
func (u *unknownWrite) Unwrap() error { return u.err }

// unknownOutcome reports whether err leaves it unknown whether a write was made: any error but the
// API server's answer (a Status: AlreadyExists, Conflict, Forbidden…).
func unknownOutcome(err error) bool {
	var status apierrors.APIStatus
	return err != nil && !errors.As(err, &status)
}

// abandon frees the Lease when it is the one sent — this run holding it since the time it asked
// for — after a write whose answer the run never got, on its own 10s deadline (the run's context
// may have ended): a run stopped while it takes the lock never leaves it held. When it cannot,
// the lock expires by itself.
func abandon(s Store, o Options, sent *coordinationv1.Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = freeIfHeld(ctx, s, o, sent)
}

// errReleased ends the stage's context once the lock is released.
var errReleased = errors.New("released")
