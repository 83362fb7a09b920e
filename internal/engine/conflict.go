package engine

import (
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// decidedVS is what a stage's routing decision rests on in the VirtualService: whether it exists,
// its generation and its spec, as this run last read or wrote them. Status (istiod reports
// reconciliation there) and metadata (labels and annotations other tools add) are not part of
// it: writes to them change the resourceVersion but nothing the decision depended on.
type decidedVS struct {
	exists     bool
	generation int64
	spec       map[string]any
}

func decidedFrom(vs *unstructured.Unstructured) decidedVS {
	if vs == nil {
		return decidedVS{}
	}
	spec, _, _ := unstructured.NestedMap(vs.Object, "spec")
	return decidedVS{exists: true, generation: vs.GetGeneration(), spec: spec}
}

// changeSince says how live differs from what the run decided on ("" when it does not).
func (d decidedVS) changeSince(live decidedVS) string {
	switch {
	case d.exists && !live.exists:
		return "it was deleted"
	case !d.exists && live.exists:
		return "it was created"
	case d.generation != live.generation:
		return fmt.Sprintf("its spec changed: generation %d → %d", d.generation, live.generation)
	case !reflect.DeepEqual(d.spec, live.spec):
		return "its spec changed"
	}
	return ""
}

// unchangedSinceDecided refuses to route when someone else (a second pipeline run, a person)
// changed the VirtualService's spec after this stage read or last wrote it: the plan may no longer
// be safe. Writes of its status or metadata by controllers and other tools do not stop the stage.
func (e *execution) unchangedSinceDecided(live *unstructured.Unstructured) error {
	if e.cfg.DryRun {
		return nil
	}
	if change := e.vs.changeSince(decidedFrom(live)); change != "" {
		return changed("VirtualService %s/%s was changed by someone else while this stage ran (%s; another pipeline run?); run the stage again to decide from the new state",
			e.cfg.Namespace, e.cfg.VirtualService, change)
	}
	return nil
}

// changedError is a stage stopped because someone changed what it decided on. When the change
// was found after a write conflicted, it wraps the API server's conflict (kube.CauseOf).
type changedError struct {
	msg      string
	conflict error
}

func changed(format string, args ...any) error {
	return &changedError{msg: fmt.Sprintf(format, args...)}
}

func (e *changedError) Error() string { return e.msg }
func (e *changedError) Unwrap() error { return e.conflict }

// maxWriteAttempts bounds how often a VirtualService write is retried after a conflict: the write
// carries the resourceVersion read just before it, so a status or metadata write that lands in
// between fails it although the spec is unchanged; the retry reads again and checks the spec.
const maxWriteAttempts = 3

func isConflict(err error) bool { return apierrors.IsConflict(err) }
