package lock_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/lock"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// TestClockSkewNeverStealsALiveLock (#12 break-it K1): two runs on machines whose clocks disagree
// by more than the lease's duration (a self-hosted agent 45s ahead, a hosted runner right) never
// both hold the lock: whether the holder stopped renewing is judged on the API server's clock
// (Record.Stale) or by the run's own sight of the Lease, never by comparing the holder's renewTime
// with this run's clock. The second run, through the stage's path (Peek, TakeSeen) and Take, is
// refused naming the first.
func TestClockSkewNeverStealsALiveLock(t *testing.T) {
	for _, c := range []struct {
		name               string
		holderSkew, inSkew time.Duration
	}{
		{"second run's clock 45s ahead", 0, 45 * time.Second},
		{"holder's clock 45s behind", -45 * time.Second, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, ns := setup(t)
			s, _ := counted(t, e.Config)
			o := lock.Options{Namespace: ns, Name: "mlcanary", Holder: lock.Holder{Run: "https://dev.azure.com/acme/scoring/_build/results?buildId=42", Stage: "Blue_0"}}
			o.Now = func() time.Time { return time.Now().Add(c.holderSkew) }
			first, stageCtx, err := lock.Take(context.Background(), s, o)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = first.Release() }()

			o2 := lock.Options{Namespace: ns, Name: "mlcanary", Holder: lock.Holder{Run: "https://github.com/acme/scoring/actions/runs/7", Stage: "Blue_50"}}
			o2.Now = func() time.Time { return time.Now().Add(c.inSkew) }
			// The stage's own path: Peek before reads, TakeSeen before the first write.
			seen, err := lock.Peek(context.Background(), s, o2)
			if err != nil {
				t.Fatal(err)
			}
			second, _, _, err := lock.TakeSeen(context.Background(), s, seen)
			if err == nil {
				defer func() { _ = second.Release() }()
			}
			var held *lock.HeldError
			if !errors.As(err, &held) {
				t.Errorf("a second run took the lock 0 s after a live run took it (its holder alive, its stage running: %v): %v; want a HeldError naming the first run", stageCtx.Err() == nil, err)
			}
			// Take (the --lock-timeout path) alike.
			third, _, err := lock.Take(context.Background(), s, lock.Options{Namespace: ns, Name: "mlcanary", Holder: lock.Holder{Run: "carol@desk", Stage: "Rollback"}, Now: o2.Now})
			if err == nil {
				defer func() { _ = third.Release() }()
			}
			if !errors.As(err, &held) {
				t.Errorf("Take by a run with the same clock: %v; want a HeldError", err)
			}
		})
	}
}

// TestHandMadeLeaseIsHeldUntilSeenUnrenewed (#12 break-it K5): an operator freezes releases by
// creating the lock by hand (kubectl: holderIdentity "incident-4711 freeze (alice)",
// leaseDurationSeconds 3600, no acquireTime nor renewTime). A stage is refused at once, naming the
// holder and when the Lease was last written by the API server's clock (no "0001-01-01", no
// "2562047h"); such a Lease is taken over only by a run that waits and sees it unchanged for its
// whole duration (here a 2s one).
func TestHandMadeLeaseIsHeldUntilSeenUnrenewed(t *testing.T) {
	e, ns := setup(t)
	s, _ := counted(t, e.Config)
	lease := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
		"metadata": map[string]any{"name": "mlcanary", "namespace": ns},
		"spec":     map[string]any{"holderIdentity": "incident-4711 freeze (alice)", "leaseDurationSeconds": int64(3600)}}}
	if _, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Create(context.Background(), lease, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	o := lock.Options{Namespace: ns, Name: "mlcanary", Holder: lock.Holder{Run: "https://github.com/acme/scoring/actions/runs/7", Stage: "Blue_0"},
		Log: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }}
	seen, err := lock.Peek(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	l, _, _, err := lock.TakeSeen(context.Background(), s, seen)
	if err == nil {
		defer func() { _ = l.Release() }()
		t.Errorf("a hand-made Lease held by %q for 1h was taken over at once: %q", "incident-4711 freeze (alice)", lines)
	} else if !errors.As(err, new(*lock.HeldError)) || strings.Contains(err.Error(), "0001-01-01") || strings.Contains(err.Error(), "2562047h") ||
		!strings.Contains(err.Error(), "is held by incident-4711 freeze (alice) (a Lease without acquire or renew time, last written at ") ||
		!strings.Contains(err.Error(), "it is never renewed, so it is taken over only by a run that waits and sees it unchanged for its 1h0m0s duration") {
		t.Errorf("refused: %v; want a HeldError naming the holder sensibly", err)
	}

	// A 2s freeze, never renewed: a run that waits takes it over once it has seen it unchanged for 2s.
	u, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Get(context.Background(), "mlcanary", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, unstructured.SetNestedField(u.Object, int64(2), "spec", "leaseDurationSeconds"))
	if _, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	lines = nil
	o.Wait = 20 * time.Second
	start := time.Now()
	l, _, err = lock.Take(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Release() }()
	if d := time.Since(start); d < 2*time.Second || d > 6*time.Second {
		t.Errorf("taken over after %s; want once seen unchanged for its 2s", d)
	}
	if len(lines) != 2 || lines[1] != "took over the lock Lease "+ns+"/mlcanary from incident-4711 freeze (alice): it was last written over 2s ago, past its 2s duration (a killed run?)" {
		t.Errorf("lines %q", lines)
	}
}

// TestForeignLeaderElectionLeaseIsRespected (#12 break-it, held): another tool's leader election uses a
// Lease of the lock's name in the namespace (client-go's leaderelection: holderIdentity
// "pod_uuid", renewTime, leaseDurationSeconds 15, no mlcanary annotations) and renews it. A stage
// is refused at once naming that holder, sends no write, and the Lease is left as it was.
func TestForeignLeaderElectionLeaseIsRespected(t *testing.T) {
	e, ns := setup(t)
	s, n := counted(t, e.Config)
	now := metav1.NewMicroTime(time.Now())
	lease := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
		"metadata": map[string]any{"name": "mlcanary", "namespace": ns},
		"spec": map[string]any{"holderIdentity": "model-operator-7d9f_3b1e", "leaseDurationSeconds": int64(15),
			"acquireTime": now.UTC().Format(metav1.RFC3339Micro), "renewTime": now.UTC().Format(metav1.RFC3339Micro), "leaseTransitions": int64(4)}}}
	created, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Create(context.Background(), lease, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := lock.Options{Namespace: ns, Name: "mlcanary", Holder: lock.Holder{Run: "bob@desk", Stage: "Blue_50"}}
	seen, err := lock.Peek(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = lock.TakeSeen(context.Background(), s, seen)
	if !errors.As(err, new(*lock.HeldError)) || !strings.Contains(err.Error(), "is held by model-operator-7d9f_3b1e since ") {
		t.Errorf("TakeSeen: %v; want a HeldError naming the other tool's leader", err)
	}
	if c := n.Load(); c != 2 {
		t.Errorf("%d requests; want 2 gets", c)
	}
	after, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Get(context.Background(), "mlcanary", metav1.GetOptions{})
	if err != nil || after.GetResourceVersion() != created.GetResourceVersion() {
		t.Errorf("the other tool's Lease was written: %v", err)
	}
}

// TestWaitingRunTakesTheLockAtRelease (#12 break-it K7): README "with --lock-timeout 10m it waits
// … and proceeds as soon as the first run's stage ends". A waiting run watches the Lease from the
// resourceVersion it read, so it takes the lock as soon as the holder releases it: within 100ms
// (the median of 5 releases; each within 500ms on a loaded machine), where it polled every 2s.
func TestWaitingRunTakesTheLockAtRelease(t *testing.T) {
	e, ns := setup(t)
	s, _ := counted(t, e.Config)
	var lags []time.Duration
	for i := range 5 {
		lags = append(lags, takenAfterRelease(t, s, ns, fmt.Sprint(i)))
	}
	slices.Sort(lags)
	t.Logf("taken %v after the release", lags)
	if lags[2] > 100*time.Millisecond || lags[4] > 500*time.Millisecond {
		t.Errorf("the waiting run took the lock %v after it was released; want as soon as: a median within 100ms", lags)
	}
}

// TestWaitingRunWithoutWatchPolls: credentials that may not watch Leases (a Role with get, create
// and update on them only) still wait for the lock, polling with a backoff (100ms doubling, at most
// a third of the duration): the lock is taken within about a second of its release.
func TestWaitingRunWithoutWatchPolls(t *testing.T) {
	e, ns := setup(t)
	user := "nowatch-" + ns
	must(t, e.GrantRole(context.Background(), ns, user, []any{testenv.Rule("coordination.k8s.io", []string{"leases"}, []string{"get", "create", "update"})}))
	rc, err := e.UserConfig(user)
	must(t, err)
	s, _ := counted(t, rc)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) { // RBAC in effect
		if _, _, err := s.Get(context.Background(), ns, "mlcanary"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if _, err := s.Watch(context.Background(), ns, "mlcanary", ""); err == nil {
		t.Fatal("the Role allows a watch of Leases")
	}
	d := takenAfterRelease(t, s, ns, "0")
	t.Logf("taken %s after the release", d)
	if d > 2*time.Second {
		t.Errorf("the waiting run took the lock %s after it was released; want about a second at most", d)
	}
}

// takenAfterRelease is how long after alice released the lock bob, waiting for it, took it.
func takenAfterRelease(t *testing.T, s lock.Store, ns, round string) time.Duration {
	t.Helper()
	o := lock.Options{Namespace: ns, Name: "mlcanary", Holder: lock.Holder{Run: "alice@desk", Stage: "Blue_0"}}
	first, _, err := lock.Take(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	gets := make(chan struct{}, 100)
	w := getNotifier{Store: s, gets: gets}
	took, released := make(chan time.Time, 1), make(chan struct{})
	go func() {
		defer close(released)
		l, _, err := lock.Take(context.Background(), w, lock.Options{Namespace: ns, Name: "mlcanary", Holder: lock.Holder{Run: "bob@desk", Stage: "Blue_50 " + round}, Wait: 30 * time.Second})
		if err != nil {
			t.Error(err)
			took <- time.Time{}
			return
		}
		took <- time.Now()
		_ = l.Release()
	}()
	<-gets // its first read: held, it waits
	time.Sleep(300 * time.Millisecond)
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	lag := (<-took).Sub(at)
	<-released
	return lag
}

type getNotifier struct {
	lock.Store
	gets chan struct{}
}

func (g getNotifier) Get(ctx context.Context, ns, name string) (*coordinationv1.Lease, time.Time, error) {
	l, date, err := g.Store.Get(ctx, ns, name)
	g.gets <- struct{}{}
	return l, date, err
}
