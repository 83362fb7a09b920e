package plan

import "github.com/mlcanary/mlcanary/internal/config"

// Replicas is the replica count a stage gives version v's Deployment when mlcanary owns its
// spec.replicas (it created the Deployment and no autoscaler scales it): wanted (--replicas), but
// never fewer than live, what v runs now, while v carries traffic (live default-route weight above
// 0), and on Blue_Green, where green is about to take every request from blue, never fewer than
// blue runs (liveBlue). The rule (README, "What every stage guarantees"): a stage never reduces
// the capacity of the version that serves, or is about to serve, the traffic. Counts are
// spec.replicas; 0 stands for a Deployment that does not exist yet.
func Replicas(stage config.Stage, v config.Version, wanted int32, carriesTraffic bool, live, liveBlue int32) int32 {
	n := wanted
	if carriesTraffic {
		n = max(n, live)
	}
	if stage.Kind == config.KindBlueGreen && v == config.Green {
		n = max(n, live, liveBlue)
	}
	return n
}

// StartReplicas is the replica count a new Deployment starts with when an autoscaler will scale it
// (blue, given a copy of green's autoscaler by Blue_0): what green runs now (spec.replicas), or the
// autoscaler's minimum when that is larger, so blue can take its share of the traffic without
// waiting for the autoscaler (README, "Autoscaling"). Never below 1.
func StartReplicas(green, autoscalerMin int32) int32 { return max(green, autoscalerMin, 1) }
