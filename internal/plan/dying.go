package plan

import (
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
)

// nothingDying refuses a plan that would give a route to, apply or wait for an object being
// deleted (VersionState.Deleting, Live.Deleting). Kubernetes keeps such an object, with a
// deletionTimestamp, only until its finalizers finish ("Finalizers",
// https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/): its status may
// still say "available", but a route to it sends requests to something about to disappear, and a
// write to it is accepted and then lost. Removing it (Green_100 or Rollback deleting a dying blue)
// is allowed. The refusal is one sentence naming the object and its finalizers; nothing is written,
// so traffic stays where it is.
func (b *builder) nothingDying() error {
	for _, s := range b.plan.Steps {
		switch s.Action {
		case ApplyRoutes, ApplyGateway:
			if len(b.live.Deleting) > 0 {
				return b.refuse("%s, so mlcanary writes no routes onto it; traffic stays where it is; wait until it is gone (or remove its finalizers), then run %s again",
					strings.Join(b.live.Deleting, "; "), b.cfg.Stage)
			}
		}
		for _, v := range config.Versions {
			st := b.state(v)
			if st.Deleting == "" || !b.needsAlive(s, v) {
				continue
			}
			return b.refuse("the stage needs %s, but %s; mlcanary routes nothing to an object being deleted, so traffic stays where it is; wait until it is gone (or remove its finalizers), then run %s again",
				v, st.Deleting, b.cfg.Stage)
		}
	}
	return nil
}

// needsAlive reports whether step s applies, waits for or routes to version v.
func (b *builder) needsAlive(s Step, v config.Version) bool {
	switch s.Action {
	case ApplyDeployment, ApplyService, WaitReady:
		return s.Version == v
	case ApplyRoutes:
		return s.Routing.References(v)
	}
	return false
}
