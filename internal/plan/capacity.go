package plan

import (
	"fmt"
	"strconv"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Shortfall is a version about to get a larger share of the default route with fewer ready
// replicas than that share needs (Capacity).
type Shortfall struct {
	Version config.Version
	// Share is the version's new share of the default route, in percent.
	Share int
	// Ready is its ready (available) replicas; Needed what Share needs.
	Ready, Needed int64
	// Serving is the replicas serving the traffic now, in hundredths of a replica: each serving
	// version's ready replicas counted at its current share (Σ weight × ready).
	Serving int64
}

// Capacity is the capacity rule of a traffic shift (README, "Autoscaling"): a version whose share
// of the default route grows from current[v] to next[v] percent must have
// ready ≥ ceil(next[v] × serving), where serving is the replicas serving the traffic now, each
// version's ready replicas counted at its current share: green alone with 6 ready replicas serves
// with 6, so blue needs 3 for 50% and 6 for 100%; green and blue with 1 each at 50/50 serve with 1,
// so Blue_100 needs 1 on blue (the plain total, 2, would refuse the documented flow at --replicas 1,
// where each version is sized for all the traffic). A version whose share does not grow is not
// checked, and nothing is when no version serves now (a first release). Shares are percentages of
// the default route; ready counts are the Deployments' status.availableReplicas.
func Capacity(current, next map[config.Version]int, ready map[config.Version]int64) []Shortfall {
	var serving int64
	for _, v := range config.Versions {
		serving += int64(current[v]) * ready[v]
	}
	if serving == 0 {
		return nil
	}
	var out []Shortfall
	for _, v := range config.Versions {
		if next[v] <= current[v] {
			continue
		}
		needed := ceilDiv(int64(next[v])*serving, 100*100)
		if ready[v] < needed {
			out = append(out, Shortfall{Version: v, Share: next[v], Ready: ready[v], Needed: needed, Serving: serving})
		}
	}
	return out
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// LargestShare is the largest share of the default route, in percent, that ready replicas carry
// under the capacity rule when the traffic is served with serving hundredths of a replica: the
// smaller step a refusal suggests.
func LargestShare(ready, serving int64) int {
	if serving <= 0 {
		return 100
	}
	return int(min(100, ready*100*100/serving))
}

// replicasText reads hundredths of a replica as a count: "6", "5.5", "0.75".
func replicasText(hundredths int64) string {
	s := strconv.FormatFloat(float64(hundredths)/100, 'f', 2, 64)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// sentence says what is short and how to fix it, in one sentence without the stage's name, e.g.
// "blue has 1 ready replica, but its new 50% share needs at least 3 (50% of the 6 replicas serving
// now); scale Deployment ns/model-blue to 3 replicas or more, or take a smaller step (Blue_16)".
func (s Shortfall) sentence(cfg *config.Config) string {
	msg := fmt.Sprintf("%s has %d ready %s, but its new %d%% share needs at least %d (%d%% of the %s %s serving now); scale Deployment %s/%s to %d replicas or more",
		s.Version, s.Ready, replicaWord(s.Ready), s.Share, s.Needed, s.Share, replicasText(s.Serving), replicaWord(s.Serving/100),
		cfg.Namespace, cfg.Objects[s.Version].Deployment, s.Needed)
	if k := cfg.Stage.Kind; s.Version == config.Blue && (k == config.KindBlueN || k == config.KindBlue100) {
		if n := LargestShare(s.Ready, s.Serving); n >= 1 && n < s.Share {
			msg += fmt.Sprintf(", or take a smaller step (Blue_%d)", n)
		}
	}
	return msg
}

func replicaWord(n int64) string {
	if n == 1 {
		return "replica"
	}
	return "replicas"
}

// capacity applies the capacity rule to the stage's traffic shift (live routing → Final) as
// cfg.CapacityCheck says: off skips it; enforce refuses a shortfall; warn notes it and moves the
// traffic; auto enforces unless an autoscaler scales the version. Rollback, the failure path that
// must bring the traffic back to green, only warns. Under auto, a shortfall before the autoscalers
// were read is a *PreconditionError with NeedsAutoscalers: the caller reads them and plans again
// (so a shift with enough capacity reads none).
func (b *builder) capacity() error {
	mode := b.cfg.CapacityCheck
	if mode == config.CapacityOff || b.plan.Final.Weights == nil {
		return nil
	}
	ready := map[config.Version]int64{}
	for _, v := range config.Versions {
		ready[v] = b.state(v).Available
	}
	for _, s := range Capacity(b.live.Routing.Weights, b.plan.Final.Weights, ready) {
		why := "--capacity-check warn"
		switch {
		case b.cfg.Stage.Kind == config.KindRollback:
			why = "Rollback always returns the traffic to green"
		case mode == config.CapacityWarn:
		case mode == config.CapacityEnforce:
			return b.refuse("%s", s.sentence(b.cfg))
		case !b.live.AutoscalersRead:
			err := b.refuse("%s", s.sentence(b.cfg))
			err.NeedsAutoscalers = true
			return err
		case !b.live.Autoscaled[s.Version]:
			return b.refuse("%s", s.sentence(b.cfg))
		case s.Share == 100 && b.live.Routing.Weights[s.Version] == 0:
			// An autoscaler adds replicas as traffic arrives only to a version that gets some: one that
			// carried none (green after Blue_Green) was shrunk to its minimum, and every request at once
			// would reach it minutes before new replicas (its reaction, then the model's load) could.
			return b.refuse("%s; an autoscaler scales %s, but %s carries none of the traffic now, so its autoscaler has shrunk it and cannot add replicas before every request arrives: raise that autoscaler's minimum to %d until the stage has run (a kubectl scale it would undo), or move anyway with --capacity-check warn",
				s.sentence(b.cfg), s.Version, s.Version, s.Needed)
		default:
			why = "an autoscaler scales " + string(s.Version) + " and adds replicas as the traffic arrives"
		}
		b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("capacity: %s; the traffic moves anyway (%s)", s.sentence(b.cfg), why))
	}
	return nil
}
