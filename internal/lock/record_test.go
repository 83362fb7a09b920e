package lock

import (
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 11, 29, 16, 40, 2, 0, time.UTC)

func TestRecordOf(t *testing.T) {
	mine := lease("abtesting", "mlcanary", Holder{Run: "https://github.com/acme/scoring/actions/runs/7", Stage: "Blue_0"}, t0, 30*time.Second)
	foreign := &coordinationv1.Lease{}
	id := "kube-controller-manager_0f3c"
	foreign.Spec.HolderIdentity = &id
	foreign.Spec.RenewTime = microTime(t0)
	blank := mine.DeepCopy()
	empty := ""
	blank.Spec.HolderIdentity = &empty
	for _, c := range []struct {
		name string
		l    *coordinationv1.Lease
		held bool
		want Record
	}{
		{"mlcanary's", mine, true, Record{Holder: Holder{Run: "https://github.com/acme/scoring/actions/runs/7", Stage: "Blue_0"}, Since: t0, Renewed: t0, Duration: 30 * time.Second}},
		{"someone else's: no annotations, no duration, no acquireTime", foreign, true, Record{Holder: Holder{Run: id}, Since: t0, Renewed: t0, Duration: DefaultDuration}},
		{"released (no holder)", blank, false, Record{}},
		{"none", nil, false, Record{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, held := RecordOf(c.l)
			if held != c.held || !got.Since.Equal(c.want.Since) || !got.Renewed.Equal(c.want.Renewed) || got.Holder != c.want.Holder || got.Duration != c.want.Duration {
				t.Errorf("RecordOf = %+v, %v; want %+v, %v", got, held, c.want, c.held)
			}
		})
	}
	if got := *mine.Spec.HolderIdentity; got != "https://github.com/acme/scoring/actions/runs/7 Blue_0" {
		t.Errorf("holderIdentity %q: want the run and the stage", got)
	}
}

func TestExpiredAfterItsDurationSinceTheLastRenewal(t *testing.T) {
	r := Record{Since: t0.Add(-time.Hour), Renewed: t0, Duration: 30 * time.Second}
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{{-time.Second, false}, {0, false}, {29 * time.Second, false}, {30 * time.Second, true}, {time.Hour, true}} {
		if got := r.Expired(t0.Add(c.at)); got != c.want {
			t.Errorf("renewed at t0, 30s lease: Expired(t0%+v) = %v, want %v", c.at, got, c.want)
		}
	}
}

// TestHeldErrorIsOneSentence: the holder, its stage, since when, and what to do, on one line.
func TestHeldErrorIsOneSentence(t *testing.T) {
	rec := Record{Holder: Holder{Run: "https://dev.azure.com/acme/scoring/_build/results?buildId=42", Stage: "Blue_0"}, Since: t0, Renewed: t0.Add(7 * time.Second), Duration: 30 * time.Second}
	now := t0.Add(10 * time.Second)
	for _, c := range []struct {
		err  *HeldError
		want string
	}{
		{&HeldError{Namespace: "abtesting", Name: "mlcanary", Record: rec, Now: now},
			"another run holds the lock of namespace abtesting: Lease abtesting/mlcanary is held by https://dev.azure.com/acme/scoring/_build/results?buildId=42 for stage Blue_0 since 2026-11-29T16:40:02Z (renewed 3s ago); run the stage again once that stage ends (a killed run's lock is taken over 30s after its last renewal), or give lock-timeout (lockTimeout in Azure DevOps) to wait for it"},
		{&HeldError{Namespace: "abtesting", Name: "mlcanary", Record: rec, Now: now, Waited: 5 * time.Minute},
			"another run holds the lock of namespace abtesting: Lease abtesting/mlcanary is held by https://dev.azure.com/acme/scoring/_build/results?buildId=42 for stage Blue_0 since 2026-11-29T16:40:02Z (renewed 3s ago), still after waiting 5m0s (lock-timeout); run the stage again once that stage ends (a killed run's lock is taken over 30s after its last renewal)"},
	} {
		if got := c.err.Error(); got != c.want || strings.Contains(got, "\n") {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestTakeKeepsOthersMetadata(t *testing.T) {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "mlcanary", ResourceVersion: "9", Labels: map[string]string{"team": "ml"}}}
	take(l, Holder{Run: "alice@laptop", Stage: "Rollback"}, t0, 1500*time.Millisecond)
	if l.ResourceVersion != "9" || l.Labels["team"] != "ml" || l.Annotations[StageAnnotation] != "Rollback" || *l.Spec.LeaseDurationSeconds != 1 {
		t.Errorf("take: %+v", l)
	}
}
