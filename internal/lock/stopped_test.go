package lock_test

import (
	"context"
	"fmt"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlcanary/mlcanary/internal/lock"
)

// answerLost is a Store whose Create and Update reach the API server but whose answers never
// reach the run: its context ends (Ctrl-C, SIGTERM) while the request is in flight.
type answerLost struct{ lock.Store }

func (s answerLost) Create(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	if _, err := s.Store.Create(ctx, l); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("Post \"https://api/…/leases\": %w", context.Canceled)
}

func (s answerLost) Update(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	if _, err := s.Store.Update(ctx, l); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("Put \"https://api/…/leases/mlcanary\": %w", context.Canceled)
}

// TestStoppedWhileTakingLeavesItFree: a run stopped while its create of the Lease, or its takeover
// of a killed holder's, is in flight does not learn that it got the lock; Take fails, and the lock
// is not left held by a run that will never release it (it is freed again), so the next run
// takes it at once. A Lease that is someone else's by then is left alone.
func TestStoppedWhileTakingLeavesItFree(t *testing.T) {
	e, ns := setup(t)
	s, _ := counted(t, e.Config)
	if _, _, err := lock.Take(context.Background(), answerLost{s}, opts(ns, "alice@laptop", "Blue_50")); err == nil {
		t.Fatal("Take succeeded though the create's answer was lost")
	}
	if h := holderOf(t, e, ns); h != "" {
		t.Fatalf("after a create whose answer was lost the lock is held by %q", h)
	}

	killedLongAgo(t, e, ns)
	if _, _, err := lock.Take(context.Background(), answerLost{s}, opts(ns, "bob@desk", "Rollback")); err == nil {
		t.Fatal("Take succeeded though the takeover's answer was lost")
	}
	if h := holderOf(t, e, ns); h != "" {
		t.Fatalf("after a takeover whose answer was lost the lock is held by %q", h)
	}

	l, _, err := lock.Take(context.Background(), s, opts(ns, "carol@desk", "Blue_50"))
	if err != nil {
		t.Fatalf("the next run: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestReleaseAfterSomeoneTouchedIt: a Lease someone wrote after this run's last write (a label, or
// this run's own renewal whose answer was lost) but still held by this run is released all the
// same.
func TestReleaseAfterSomeoneTouchedIt(t *testing.T) {
	e, ns := setup(t)
	s, _ := counted(t, e.Config)
	l, _, err := lock.Take(context.Background(), s, opts(ns, "alice@laptop", "Blue_50"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Get(context.Background(), "mlcanary", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.SetLabels(map[string]string{"team": "ml"})
	if _, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if h := holderOf(t, e, ns); h != "" {
		t.Fatalf("after Release the lock is still held by %q", h)
	}
}
