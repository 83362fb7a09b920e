package kube

import "testing"

// TestRoutableWhileOnlyTheCountChanges: a version is routable when its rollout is Done, or when the
// controller's completed-rollout mark (Progressing NewReplicaSetAvailable) stands, no replica of an
// older template remains and one replica is available: an autoscaler's scale-up in progress (G9 of
// the break-it review of #9). Every other unfinished rollout is not.
func TestRoutableWhileOnlyTheCountChanges(t *testing.T) {
	completed := []string{"True", NewRSAvailableReason, `ReplicaSet "m-5d" has successfully progressed.`}
	quota := deployment(3, counts(3, 1, 1, 1), completed...)
	quota.Object["status"].(map[string]any)["conditions"] = append(quota.Object["status"].(map[string]any)["conditions"].([]any),
		map[string]any{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "exceeded quota: compute"})
	for _, c := range []struct {
		name     string
		r        Rollout
		routable bool
	}{
		{"scaling up: 1 of 2 available, every replica on the current template", RolloutOf(deployment(3, counts(3, 2, 2, 1), completed...)), true},
		{"scaling up, the pods not yet created", RolloutOf(deployment(3, counts(3, 1, 1, 1), completed...)), true},
		{"scaling up, a quota refuses the pods", RolloutOf(quota), true},
		{"a rollout in progress", RolloutOf(deployment(3, counts(3, 2, 2, 1), "True", "ReplicaSetUpdated", "")), false},
		{"a new ReplicaSet just created", RolloutOf(deployment(3, counts(3, 2, 2, 1), "True", "NewReplicaSetCreated", "")), false},
		{"replicas of an older template left", RolloutOf(deployment(3, counts(3, 3, 2, 2), completed...)), false},
		{"none available", RolloutOf(deployment(3, counts(3, 2, 2, 0), completed...)), false},
		{"the latest spec not observed yet", RolloutOf(deployment(4, counts(3, 2, 2, 1), completed...)), false},
		{"no Progressing condition (no progress deadline): only a finished rollout", RolloutOf(deployment(3, counts(3, 2, 2, 1))), false},
		{"done", RolloutOf(deployment(3, counts(3, 2, 2, 2))), true},
	} {
		if c.r.Routable != c.routable {
			t.Errorf("%s: routable %v, want %v (%+v)", c.name, c.r.Routable, c.routable, c.r)
		}
		if c.routable && !c.r.Done && c.r.Reason == "" {
			t.Errorf("%s: a routable, unfinished rollout says nothing of its replicas", c.name)
		}
	}
}
