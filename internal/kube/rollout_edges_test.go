package kube

import (
	"strings"
	"testing"
)

// TestRolloutOfEdges: what TestRolloutOfJudgesAsKubectl's cases leave open — the default of one
// replica, which rule wins when several hold, and counts past the wanted number (a surge, an HPA
// that scaled up since).
func TestRolloutOfEdges(t *testing.T) {
	timedOut := []string{"False", TimedOutReason, "ReplicaSet \"m-5d\" has timed out progressing."}
	noReplicas := deployment(1, counts(1, 1, 1, 1))
	delete(noReplicas.Object["spec"].(map[string]any), "replicas")
	noReplicasUnready := deployment(1, counts(1, 1, 1, 0))
	delete(noReplicasUnready.Object["spec"].(map[string]any), "replicas")
	scaledToZeroUnobserved := deployment(4, counts(3, 0, 0, 0))
	scaledToZeroUnobserved.Object["spec"] = map[string]any{"replicas": int64(0)}
	cases := []struct {
		name   string
		r      Rollout
		done   bool
		failed bool
		reason string // a part of the reason ("" when done)
	}{
		{"spec.replicas absent means 1: ready", RolloutOf(noReplicas), true, false, ""},
		{"spec.replicas absent means 1: not available", RolloutOf(noReplicasUnready), false, false, "0 of 1 replicas available"},
		{"scaled to 0 wins over an unobserved generation", RolloutOf(scaledToZeroUnobserved), false, false, "scaled to 0"},
		{"an observed generation past the spec's counts as observed", RolloutOf(deployment(3, counts(4, 2, 2, 2))), true, false, ""},
		{"a timed-out condition of the observed generation fails even with every replica available",
			RolloutOf(deployment(3, counts(3, 2, 2, 2), timedOut...)), false, true, "ProgressDeadlineExceeded"},
		{"updated replicas short wins over old replicas left", RolloutOf(deployment(3, counts(3, 3, 1, 2))), false, false, "1 of 2 replicas updated"},
		{"old replicas left win over availability", RolloutOf(deployment(3, counts(3, 3, 2, 1))), false, false, "1 old replicas are still terminating"},
		{"more available than wanted (a surge) is done", RolloutOf(deployment(3, counts(3, 2, 2, 3))), true, false, ""},
		{"more updated than wanted (scaled down since) waits for old ones", RolloutOf(deployment(3, counts(3, 4, 3, 3))), false, false, "1 old replicas"},
	}
	for _, tc := range cases {
		if tc.r.Done != tc.done || tc.r.Failed != tc.failed || !strings.Contains(tc.r.Reason, tc.reason) || tc.done && tc.r.Reason != "" {
			t.Errorf("%s: %+v, want done=%v failed=%v reason containing %q", tc.name, tc.r, tc.done, tc.failed, tc.reason)
		}
	}
}
