package plan

import (
	"github.com/mlcanary/mlcanary/internal/config"
)

// refusePaused refuses, before any write, a stage that needs a rollout of version v's Deployment
// while it is paused (spec.paused, `kubectl rollout pause`): "a Deployment may be paused …
// changes to the PodTemplateSpec of the paused Deployment will not trigger new rollouts as long
// as it is paused" (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#pausing-and-resuming-a-deployment),
// and its progress deadline is not counted, so the stage would unroute v, write it and wait out
// --timeout for nothing. The refusal is one sentence with the fix, e.g. "green (Deployment
// ns/model-green) is paused (spec.paused: true), so its controller would roll out no change
// mlcanary writes; resume it first: kubectl rollout resume deployment/model-green -n ns". It is not
// waitable (PreconditionError.Unready is unset).
func (b *builder) refusePaused(v config.Version, what string) *PreconditionError {
	name, ns := b.cfg.Objects[v].Deployment, b.cfg.Namespace
	return b.refuse("%s (Deployment %s/%s) is paused (spec.paused: true), so its controller %s; resume it first: kubectl rollout resume deployment/%s -n %s, then run %s again",
		v, ns, name, what, name, ns, b.cfg.Stage)
}
