// Package lock is the namespace's lock: a coordination.k8s.io/v1 Lease that a stage that writes
// holds from before its first write until it ends, so one release per namespace acts at a time.
//
// A stage reads the lock before its first read (Peek: one get). A stage that then writes nothing —
// a re-run that holds — sends nothing more. One that writes takes the lock as it read it, before
// its first write (TakeSeen: a create, or an update at the resourceVersion read), renews it while
// it works and waits (an update every third of its duration, carrying the resourceVersion it last
// wrote), and releases it by blanking its holder (an update preconditioned on that
// resourceVersion). The Lease is never deleted, so taking it as read proves that no other run
// took it, wrote and released it since the stage's reads. When it was taken since, the stage reads
// again holding it. A second run fails at once naming the holder, or waits up to Options.Wait. A
// holder that stopped renewing (a run killed with SIGKILL, an agent that vanished) loses the lock
// to the next run once its duration has passed since its last renewal, judged without comparing
// two machines' clocks: by the next run's own sight of it — seen unchanged (the same
// resourceVersion) for its duration on that run's clock, as client-go's leaderelection judges it
// (tools/leaderelection/leaderelection.go, tryAcquireOrRenew: isLeaseValid is observedTime plus
// leaseDurationSeconds on the observer's clock) — or on the API server's clock alone (Record.Stale:
// the last write's time, which the API server stamps into metadata.managedFields, against the Date
// of its answer to the read), so a run arriving long after a killed one takes over at once. Every
// write is optimistic (resourceVersion): two runs can never both believe they hold it.
//
// client-go's leaderelection is built for continuous leader election: it blocks until it leads,
// always waits a full lease duration before taking over a record it has just seen, and reaches the
// Lease through the typed clientset, which the binary does not link (README, "Development"). A
// stage needs one-shot semantics instead — fail at once or wait a bounded time, take over a lease
// that expired long ago at once, take it only as read — so this package implements them over the
// dynamic client with the typed coordinationv1 structs.
package lock

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
)

// Annotations on the Lease naming the holder's run and stage apart; holderIdentity carries both
// ("<run> <stage>") for tools that read only the Lease's spec.
const (
	RunAnnotation   = "mlcanary.io/run"
	StageAnnotation = "mlcanary.io/stage"
)

// DefaultDuration is how long a lock outlives its holder's last renewal: a run killed with SIGKILL
// blocks the namespace at most this long. A holder renews every third of it.
const DefaultDuration = 30 * time.Second

// Holder is who holds (or asks for) the lock: a run and the stage it performs.
type Holder struct {
	// Run is the pipeline run's URL, or user@host outside a pipeline.
	Run string
	// Stage is the stage's name, e.g. Blue_50.
	Stage string
}

// Identity is the Lease's spec.holderIdentity for h.
func (h Holder) Identity() string { return h.Run + " " + h.Stage }

// Record is what a Lease says about its holder, and when the API server last wrote it.
type Record struct {
	Holder Holder
	// Since is when the holder took the lock (acquireTime; renewTime when it has none); Renewed
	// when it last renewed it (renewTime; acquireTime when it has none). Both are the holder's
	// clock, shown but never compared with this run's; zero when the Lease has neither (a Lease
	// written by hand).
	Since, Renewed time.Time
	// Duration is the lease's duration (leaseDurationSeconds; DefaultDuration when absent).
	Duration time.Duration
	// Written is when the API server last changed the Lease (the newest metadata.managedFields
	// time: the API server stamps its own clock there on every write that changes a field,
	// k8s.io/apimachinery/pkg/util/managedfields/internal/managedfieldsupdater.go; 1s resolution),
	// and Read the Date of the API server's answer to the read (1s resolution): both the API
	// server's clock. Zero when unknown.
	Written, Read time.Time
}

// RecordOf reads lease's holder; false when the Lease is free (no holderIdentity). Read is zero.
func RecordOf(lease *coordinationv1.Lease) (Record, bool) { return recordAt(lease, time.Time{}) }

// recordAt is RecordOf of lease as read at date, the Date of the API server's answer.
func recordAt(lease *coordinationv1.Lease, date time.Time) (Record, bool) {
	if lease == nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		return Record{}, false
	}
	r := Record{Holder: Holder{Run: lease.Annotations[RunAnnotation], Stage: lease.Annotations[StageAnnotation]}, Duration: DefaultDuration, Read: date}
	if r.Holder.Run == "" { // a Lease mlcanary did not write: its identity is all there is
		r.Holder = Holder{Run: *lease.Spec.HolderIdentity}
	}
	if t := lease.Spec.AcquireTime; t != nil {
		r.Since = t.Time
	}
	if t := lease.Spec.RenewTime; t != nil {
		r.Renewed = t.Time
	}
	if r.Since.IsZero() {
		r.Since = r.Renewed
	}
	if r.Renewed.IsZero() {
		r.Renewed = r.Since
	}
	if d := lease.Spec.LeaseDurationSeconds; d != nil && *d > 0 {
		r.Duration = time.Duration(*d) * time.Second
	}
	for _, f := range lease.ManagedFields {
		if f.Time != nil && f.Time.After(r.Written) {
			r.Written = f.Time.Time
		}
	}
	return r, true
}

// serverSlack is what the two 1s-resolution server times may hide: the write may have been up to
// 1s later than Written says, the read up to 1s earlier than Read says… together, 1s at most.
const serverSlack = time.Second

// age is how long before the read the API server last wrote the Lease, on the API server's clock,
// counted short by serverSlack; false when either time is unknown or they disagree (a write after
// the read: the read's Date came from another clock, a proxy's).
func (r Record) age() (time.Duration, bool) {
	if r.Written.IsZero() || r.Read.IsZero() || r.Written.After(r.Read.Add(serverSlack)) {
		return 0, false
	}
	return max(r.Read.Sub(r.Written)-serverSlack, 0), true
}

// Stale reports whether the holder had stopped renewing when the Lease was read, judged on the API
// server's clock alone: the API server had not written it for its whole duration. A Lease without
// renewTime (written by hand: an operator's freeze) is never Stale: only a run that sees it
// unchanged for its duration takes it over. False when the server's times are unknown.
// Assumed: the API servers of one cluster (several behind a load balancer) keep one time (NTP), and
// the Date is theirs — a proxy that terminates TLS and sets its own Date makes it the proxy's clock:
// one behind is seen (a write after the read: not Stale), one ahead is not.
func (r Record) Stale() bool {
	a, ok := r.staleIn()
	return ok && a <= 0
}

// staleIn is how long after the read the Lease becomes Stale if it is not written meanwhile.
func (r Record) staleIn() (time.Duration, bool) {
	a, ok := r.age()
	if !ok || r.Renewed.IsZero() {
		return 0, false
	}
	return r.Duration - a, true
}

// Describe is the holder in one clause: "https://…/runs/7 for stage Blue_0 since
// 2026-11-29T16:40:02Z (renewed 3s ago)", the age on the API server's clock (left out when
// unknown); a Lease without times is "incident-4711 (a Lease without acquire or renew time, last
// written at 2026-11-30T05:30:00Z)".
func (r Record) Describe() string {
	a, known := r.age()
	switch {
	case r.Renewed.IsZero() && !r.Written.IsZero():
		return fmt.Sprintf("%s (a Lease without acquire or renew time, last written at %s)", r.Who(), stamp(r.Written))
	case r.Renewed.IsZero():
		return r.Who() + " (a Lease without acquire or renew time)"
	case known:
		return fmt.Sprintf("%s since %s (renewed %s ago)", r.Who(), stamp(r.Since), ago(a))
	}
	return fmt.Sprintf("%s since %s", r.Who(), stamp(r.Since))
}

// Who is the holder's run and stage: "https://…/runs/7 for stage Blue_0".
func (r Record) Who() string {
	if r.Holder.Stage == "" {
		return r.Holder.Run
	}
	return r.Holder.Run + " for stage " + r.Holder.Stage
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func ago(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Second).String()
}

// HeldError is a stage refused because another run holds the lock.
type HeldError struct {
	Namespace, Name string
	Record          Record
	// Waited is how long the stage waited for the lock (Options.Wait); 0 when it did not.
	Waited time.Duration
}

func (e *HeldError) Error() string {
	s := fmt.Sprintf("another run holds the lock of namespace %s: Lease %s/%s is held by %s", e.Namespace, e.Namespace, e.Name, e.Record.Describe())
	expiry := fmt.Sprintf("a killed run's lock is taken over %s after its last renewal", e.Record.Duration)
	if e.Record.Renewed.IsZero() {
		expiry = fmt.Sprintf("it is never renewed, so it is taken over only by a run that waits and sees it unchanged for its %s duration", e.Record.Duration)
	}
	if e.Waited > 0 {
		return s + fmt.Sprintf(", still after waiting %s (lock-timeout); run the stage again once that stage ends (%s)", e.Waited, expiry)
	}
	return s + fmt.Sprintf("; run the stage again once that stage ends (%s), or give lock-timeout (lockTimeout in Azure DevOps) to wait for it", expiry)
}

// LostError is a held lock that another run took over (or that could not be renewed in time) while
// the stage ran: the stage is stopped through its context.
type LostError struct {
	Namespace, Name string
	Reason          string
}

func (e *LostError) Error() string {
	return fmt.Sprintf("this run lost the lock Lease %s/%s while the stage ran (%s), so it stopped", e.Namespace, e.Name, e.Reason)
}

// lease builds the Lease h holds from at for d (acquire and renew at `at`).
func lease(ns, name string, h Holder, at time.Time, d time.Duration) *coordinationv1.Lease {
	l := &coordinationv1.Lease{}
	l.APIVersion, l.Kind = "coordination.k8s.io/v1", "Lease"
	l.Namespace, l.Name = ns, name
	take(l, h, at, d)
	return l
}

// take makes l held by h from at for d, keeping l's metadata (resourceVersion, others' labels).
func take(l *coordinationv1.Lease, h Holder, at time.Time, d time.Duration) {
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[RunAnnotation], l.Annotations[StageAnnotation] = h.Run, h.Stage
	id, secs := h.Identity(), int32(d/time.Second)
	if secs < 1 {
		secs = 1
	}
	now := microTime(at)
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &id, &secs
	l.Spec.AcquireTime, l.Spec.RenewTime = now, now
}

// Read returns the lock's holder for `mlcanary status`, or false when the lock is free: one get.
func Read(ctx context.Context, s Store, ns, name string) (Record, bool, error) {
	l, date, err := s.Get(ctx, ns, name)
	if err != nil {
		return Record{}, false, s.Explain(ctx, err, fmt.Sprintf("reading Lease %s/%s (the namespace's lock)", ns, name), ns, "")
	}
	r, held := recordAt(l, date)
	return r, held, nil
}
