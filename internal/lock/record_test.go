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

// TestStaleOnTheServersClockOnly: a holder stopped renewing when the API server had not written
// the Lease for its duration by the API server's own clock (the last write's managedFields time
// against the read's Date, 1s taken off for their resolution), whatever the holder's renewTime
// says; unknown server times, times that disagree, or a Lease without renewTime are never stale.
func TestStaleOnTheServersClockOnly(t *testing.T) {
	r := Record{Since: t0.Add(-time.Hour), Renewed: t0.Add(-time.Hour), Duration: 30 * time.Second, Written: t0}
	for _, c := range []struct {
		name string
		r    func(Record) Record
		want bool
	}{
		{"read 30s after the write", func(r Record) Record { r.Read = t0.Add(30 * time.Second); return r }, false},
		{"read 31s after the write", func(r Record) Record { r.Read = t0.Add(31 * time.Second); return r }, true},
		{"read an hour after", func(r Record) Record { r.Read = t0.Add(time.Hour); return r }, true},
		{"renewTime an hour in the future, read 31s after the write", func(r Record) Record {
			r.Renewed, r.Read = t0.Add(time.Hour), t0.Add(31*time.Second)
			return r
		}, true},
		{"renewTime now, read just after the write", func(r Record) Record { r.Renewed, r.Read = t0, t0; return r }, false},
		{"no Date", func(r Record) Record { return r }, false},
		{"no managedFields time", func(r Record) Record { r.Written, r.Read = time.Time{}, t0.Add(time.Hour); return r }, false},
		{"a Date 2s before the write (another clock)", func(r Record) Record { r.Read = t0.Add(-2 * time.Second); return r }, false},
		{"no renewTime nor acquireTime (by hand), read an hour after", func(r Record) Record {
			r.Since, r.Renewed, r.Read = time.Time{}, time.Time{}, t0.Add(time.Hour)
			return r
		}, false},
	} {
		if got := c.r(r).Stale(); got != c.want {
			t.Errorf("%s: Stale = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestHeldErrorIsOneSentence: the holder, its stage, since when, and what to do, on one line.
func TestHeldErrorIsOneSentence(t *testing.T) {
	rec := Record{Holder: Holder{Run: "https://dev.azure.com/acme/scoring/_build/results?buildId=42", Stage: "Blue_0"}, Since: t0, Renewed: t0.Add(7 * time.Second), Duration: 30 * time.Second,
		Written: t0.Add(8 * time.Second), Read: t0.Add(12 * time.Second)}
	byHand := Record{Holder: Holder{Run: "incident-4711 freeze (alice)"}, Duration: time.Hour, Written: t0, Read: t0.Add(2 * time.Hour)}
	for _, c := range []struct {
		err  *HeldError
		want string
	}{
		{&HeldError{Namespace: "abtesting", Name: "mlcanary", Record: rec},
			"another run holds the lock of namespace abtesting: Lease abtesting/mlcanary is held by https://dev.azure.com/acme/scoring/_build/results?buildId=42 for stage Blue_0 since 2026-11-29T16:40:02Z (renewed 3s ago); run the stage again once that stage ends (a killed run's lock is taken over 30s after its last renewal), or give lock-timeout (lockTimeout in Azure DevOps) to wait for it"},
		{&HeldError{Namespace: "abtesting", Name: "mlcanary", Record: rec, Waited: 5 * time.Minute},
			"another run holds the lock of namespace abtesting: Lease abtesting/mlcanary is held by https://dev.azure.com/acme/scoring/_build/results?buildId=42 for stage Blue_0 since 2026-11-29T16:40:02Z (renewed 3s ago), still after waiting 5m0s (lock-timeout); run the stage again once that stage ends (a killed run's lock is taken over 30s after its last renewal)"},
		{&HeldError{Namespace: "abtesting", Name: "mlcanary", Record: byHand},
			"another run holds the lock of namespace abtesting: Lease abtesting/mlcanary is held by incident-4711 freeze (alice) (a Lease without acquire or renew time, last written at 2026-11-29T16:40:02Z); run the stage again once that stage ends (it is never renewed, so it is taken over only by a run that waits and sees it unchanged for its 1h0m0s duration), or give lock-timeout (lockTimeout in Azure DevOps) to wait for it"},
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
