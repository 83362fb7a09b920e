package lock_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/lock"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

var shared testenv.Shared

func TestMain(m *testing.M) { os.Exit(shared.Main(m)) }

var nsCount atomic.Int32

// setup returns the server and a fresh namespace.
func setup(t *testing.T) (*testenv.Env, string) {
	t.Helper()
	e := shared.Env(t)
	ns := fmt.Sprintf("lock-%d", nsCount.Add(1))
	if err := e.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return e, ns
}

// counted is a Store on rc that counts the requests sent through it.
func counted(t *testing.T, rc *rest.Config) (lock.Store, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	rc = rest.CopyConfig(rc)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) { n.Add(1); return rt.RoundTrip(r) })
	})
	s, err := lock.NewStore(rc)
	if err != nil {
		t.Fatal(err)
	}
	return s, &n
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func opts(ns, run, stage string) lock.Options {
	return lock.Options{Namespace: ns, Name: "mlcanary", Holder: lock.Holder{Run: run, Stage: stage}, Duration: 3 * time.Second}
}

func getLease(t *testing.T, e *testenv.Env, ns string) *coordinationv1.Lease {
	t.Helper()
	u, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Get(context.Background(), "mlcanary", metav1.GetOptions{})
	if err != nil {
		return nil
	}
	l := &coordinationv1.Lease{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, l); err != nil {
		t.Fatal(err)
	}
	return l
}

// holderOf is the lock's holder identity, "" when it is free or there is no Lease.
func holderOf(t *testing.T, e *testenv.Env, ns string) string {
	t.Helper()
	if l := getLease(t, e, ns); l != nil && l.Spec.HolderIdentity != nil {
		return *l.Spec.HolderIdentity
	}
	return ""
}

// TestFreeLockCostsThreeRequests: a stage reads the lock before its reads (Peek) and takes it as
// seen before its first write (TakeSeen): a free lock costs a get, one create (the first time) or
// update, and one update to release it. The Lease stays, free, so that no release and retake can
// pass unseen between a run's Peek and its take.
func TestFreeLockCostsThreeRequests(t *testing.T) {
	e, ns := setup(t)
	s, n := counted(t, e.Config)
	for _, run := range []string{"alice@laptop", "bob@desk"} {
		n.Store(0)
		seen, err := lock.Peek(context.Background(), s, opts(ns, run, "Blue_50"))
		if err != nil {
			t.Fatal(err)
		}
		l, _, fresh, err := lock.TakeSeen(context.Background(), s, seen)
		if err != nil || !fresh {
			t.Fatalf("%s: TakeSeen: fresh %v, %v", run, fresh, err)
		}
		held := getLease(t, e, ns)
		if held == nil || *held.Spec.HolderIdentity != run+" Blue_50" || *held.Spec.LeaseDurationSeconds != 3 {
			t.Fatalf("%s: held Lease: %+v", run, held)
		}
		if err := l.Release(); err != nil {
			t.Fatal(err)
		}
		if got := n.Load(); got != 3 {
			t.Errorf("%s: peek + take + release sent %d requests, want 3", run, got)
		}
		if h := holderOf(t, e, ns); h != "" {
			t.Errorf("%s: the Lease is still held by %q after Release", run, h)
		}
	}
}

// TestTakeSeenAfterAnotherRunIsNotFresh: when another run took the lock between a run's Peek and
// its take, or holds it when peeked, TakeSeen is Take (it fails at once naming the holder) and a
// lock taken then is never fresh: the stage must read again.
func TestTakeSeenAfterAnotherRunIsNotFresh(t *testing.T) {
	e, ns := setup(t)
	s, _ := counted(t, e.Config)
	seen, err := lock.Peek(context.Background(), s, opts(ns, "alice@laptop", "Blue_50"))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := lock.Take(context.Background(), s, opts(ns, "bob@desk", "Rollback"))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Release(); err != nil {
		t.Fatal(err)
	}
	l, _, fresh, err := lock.TakeSeen(context.Background(), s, seen)
	if err != nil {
		t.Fatal(err)
	}
	if fresh {
		t.Error("taken fresh though another run took and released the lock since the Peek")
	}
	if seen, err = lock.Peek(context.Background(), s, opts(ns, "carol@desk", "Blue_60")); err != nil {
		t.Fatal(err)
	}
	if seen.Busy() == nil {
		t.Error("Busy is nil while alice holds the lock")
	}
	_, _, _, err = lock.TakeSeen(context.Background(), s, seen)
	var held *lock.HeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "alice@laptop") {
		t.Errorf("TakeSeen while held: %v, want a HeldError naming alice", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestHeldLockRefusesAtOnceAndIsRenewed: while a stage holds the lock (renewing it past several
// durations), a second run fails at once naming the holder; it is never taken over meanwhile (each
// renewal is a write whose managedFields time the API server stamps anew, so Record.Stale stays
// false).
func TestHeldLockRefusesAtOnceAndIsRenewed(t *testing.T) {
	e, ns := setup(t)
	s, _ := counted(t, e.Config)
	first, stageCtx, err := lock.Take(context.Background(), s, opts(ns, "https://github.com/acme/scoring/actions/runs/7", "Blue_0"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Release() }()
	before := getLease(t, e, ns)
	time.Sleep(7 * time.Second) // over 2 durations
	after := getLease(t, e, ns)
	if !after.Spec.RenewTime.After(before.Spec.RenewTime.Add(4 * time.Second)) {
		t.Errorf("renewTime %v → %v after 7s: not renewed", before.Spec.RenewTime, after.Spec.RenewTime)
	}
	_, _, err = lock.Take(context.Background(), s, opts(ns, "bob@desk", "Blue_50"))
	var held *lock.HeldError
	if !errors.As(err, &held) || held.Record.Holder.Run != "https://github.com/acme/scoring/actions/runs/7" || held.Record.Holder.Stage != "Blue_0" {
		t.Fatalf("second Take: %v; want a HeldError naming the first run", err)
	}
	if !strings.Contains(err.Error(), "is held by https://github.com/acme/scoring/actions/runs/7 for stage Blue_0 since ") {
		t.Errorf("message: %s", err)
	}
	if stageCtx.Err() != nil {
		t.Errorf("the holder's stage was stopped: %v", context.Cause(stageCtx))
	}
}

// TestKilledHolderIsTakenOver: a Lease whose holder stopped renewing (its process was killed) is
// taken over at once by a run that comes once the API server has not written it for its duration
// (its own clock: the managedFields time of the last write against the Date of the read, 1s of
// slack), saying so in one line; the transition is counted.
func TestKilledHolderIsTakenOver(t *testing.T) {
	e, ns := setup(t)
	s, n := counted(t, e.Config)
	killedLongAgo(t, e, ns)
	var lines []string
	o := opts(ns, "bob@desk", "Rollback")
	o.Log = func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }
	l, _, err := lock.Take(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Release() }()
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "took over the lock Lease "+ns+"/mlcanary from killed@agent for stage Blue_0, held since ") || !strings.Contains(lines[0], "ago, past its 3s duration (a killed run?)") {
		t.Errorf("lines %q", lines)
	}
	got := getLease(t, e, ns)
	if *got.Spec.HolderIdentity != "bob@desk Rollback" || got.Spec.LeaseTransitions == nil || *got.Spec.LeaseTransitions != 1 {
		t.Errorf("after takeover: %+v", got.Spec)
	}
	if c := n.Load(); c != 2 {
		t.Errorf("takeover sent %d requests, want 2 (get, update)", c)
	}
}

// stuckLease creates the Lease of a run that was killed at renewed (it renews no more).
func stuckLease(t *testing.T, e *testenv.Env, ns string, renewed time.Time) *unstructured.Unstructured {
	t.Helper()
	id, secs := "killed@agent Blue_0", int32(3)
	at := metav1.NewMicroTime(renewed)
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "mlcanary", Namespace: ns,
		Annotations: map[string]string{lock.RunAnnotation: "killed@agent", lock.StageAnnotation: "Blue_0"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &secs, AcquireTime: &at, RenewTime: &at}}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(l)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion("coordination.k8s.io/v1")
	u.SetKind("Lease")
	_ = e.Dynamic.Resource(lock.Leases).Namespace(ns).Delete(context.Background(), "mlcanary", metav1.DeleteOptions{}) // a freed one stays
	out, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// killedLongAgo is the Lease of a run killed (it renews no more) long enough ago that the API
// server has not written it for its 3s duration: by the API server's clock, 1s resolution, it
// waits 5s. Its renewTime, the holder's clock, is 4s before it was written.
func killedLongAgo(t *testing.T, e *testenv.Env, ns string) {
	t.Helper()
	stuckLease(t, e, ns, time.Now().Add(-4*time.Second))
	time.Sleep(5 * time.Second)
}

// TestClockAheadStillTakenOver: a holder whose clock ran ahead wrote a renewTime in the future and
// was killed; a waiting run takes it over once it has seen it unchanged for its duration, whatever
// the record's clock says.
func TestClockAheadStillTakenOver(t *testing.T) {
	e, ns := setup(t)
	s, _ := counted(t, e.Config)
	stuckLease(t, e, ns, time.Now().Add(time.Hour))
	o := opts(ns, "bob@desk", "Blue_50")
	if _, _, err := lock.Take(context.Background(), s, o); !errors.As(err, new(*lock.HeldError)) {
		t.Fatalf("without a wait: %v; want HeldError", err)
	}
	o.Wait = 20 * time.Second
	start := time.Now()
	l, _, err := lock.Take(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Release() }()
	if d := time.Since(start); d < 3*time.Second || d > 9*time.Second {
		t.Errorf("taken over after %s; want about its 3s duration", d)
	}
}

// TestWaitsThenProceedsWhenReleased: with a wait, a second run waits for the first to end and takes
// the lock at once after it is released, saying it waited.
func TestWaitsThenProceedsWhenReleased(t *testing.T) {
	e, ns := setup(t)
	s, _ := counted(t, e.Config)
	o := opts(ns, "alice@laptop", "Blue_0")
	o.Duration = 30 * time.Second // never expires during the test: only the release frees it
	first, _, err := lock.Take(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	second := opts(ns, "bob@desk", "Blue_50")
	second.Wait = time.Minute
	second.Log = func(f string, a ...any) { mu.Lock(); lines = append(lines, fmt.Sprintf(f, a...)); mu.Unlock() }
	done := make(chan error)
	go func() {
		l, _, err := lock.Take(context.Background(), s, second)
		if err == nil {
			err = l.Release()
		}
		done <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the second run did not wait: %v", err)
	default:
	}
	released := time.Now()
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(released); d > 6*time.Second {
		t.Errorf("took the lock %s after the release; want within one poll (2s)", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "waiting up to 1m0s for the lock: Lease "+ns+"/mlcanary is held by alice@laptop for stage Blue_0 since ") ||
		!strings.HasPrefix(lines[1], "took the lock Lease "+ns+"/mlcanary after waiting ") {
		t.Errorf("lines %q", lines)
	}
}

// TestLostLockStopsTheStage: when another run takes the lock over (the holder was too slow to
// renew, say), the holder's stage context ends at its next renewal with a LostError naming the
// new holder, and Release leaves the other run's lock alone.
func TestLostLockStopsTheStage(t *testing.T) {
	e, ns := setup(t)
	s, _ := counted(t, e.Config)
	l, stageCtx, err := lock.Take(context.Background(), s, opts(ns, "alice@laptop", "Blue_0"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Get(context.Background(), "mlcanary", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, unstructured.SetNestedField(u.Object, "carol@ops Rollback", "spec", "holderIdentity"))
	u.SetAnnotations(map[string]string{lock.RunAnnotation: "carol@ops", lock.StageAnnotation: "Rollback"})
	if _, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stageCtx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the stage went on without the lock")
	}
	lost := lock.Lost(stageCtx)
	if lost == nil || !strings.Contains(lost.Error(), "lost the lock Lease "+ns+"/mlcanary while the stage ran (it is now held by carol@ops for stage Rollback since ") {
		t.Errorf("cause: %v", context.Cause(stageCtx))
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if got := getLease(t, e, ns); got == nil || *got.Spec.HolderIdentity != "carol@ops Rollback" {
		t.Errorf("Release touched the other run's lock: %+v", got)
	}
}

// TestWithoutLeasePermissionsSaysWhichOne: credentials that may not create Leases get one sentence
// naming the verb and the resource.
func TestWithoutLeasePermissionsSaysWhichOne(t *testing.T) {
	e, ns := setup(t)
	user := "nolease-" + ns
	must(t, e.GrantRole(context.Background(), ns, user, []any{testenv.Rule("coordination.k8s.io", []string{"leases"}, []string{"get", "update", "delete"})}))
	rc, err := e.UserConfig(user)
	must(t, err)
	s, _ := counted(t, rc)
	var lerr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, _, lerr = lock.Take(context.Background(), s, opts(ns, "alice@laptop", "Blue_0")); lerr != nil && strings.Contains(lerr.Error(), "RBAC") {
			break
		}
	}
	want := fmt.Sprintf(`creating Lease %s/mlcanary (the namespace's lock): RBAC does not allow user "%s" to create leases.coordination.k8s.io in namespace "%s"`, ns, user, ns)
	if lerr == nil || !strings.HasPrefix(lerr.Error(), want) {
		t.Errorf("got  %v\nwant %s…", lerr, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
