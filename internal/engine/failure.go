package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// StageError is a stage that stopped after it began carrying out its steps. Every step keeps
// traffic on versions that are ready (make-before-break), so what holds is safe; the message ends
// with what the stage had already changed, so the user knows what state it left:
//
//	Blue_0 did not complete: applying Deployment abtesting/model-blue: <cause>; <next step>;
//	already changed: Gateway abtesting/mlmodel-gateway created, Service abtesting/model-svc-blue created
//
// Err is the step's error (a *kube.APIError when the API server refused it: kube.CauseOf tells
// the cause).
type StageError struct {
	Stage config.Stage
	// Changes are the result's change lines up to the failure, in order.
	Changes []string
	DryRun  bool
	Err     error
}

func (e *StageError) Error() string {
	return fmt.Sprintf("%s did not complete: %v; %s", e.Stage, e.Err, e.changed())
}

func (e *StageError) Unwrap() error { return e.Err }

// changed says what the stage changed. A write whose answer was lost (kube.APIError.Unsure) is
// neither changed nor unchanged: the error says it may have been applied, and the rest reads
// "nothing else was changed", never "nothing was changed".
func (e *StageError) changed() string {
	var a *kube.APIError
	unsure := !e.DryRun && errors.As(e.Err, &a) && a.Unsure != ""
	switch {
	case e.DryRun:
		return "nothing was changed (dry run)"
	case len(e.Changes) == 0 && unsure:
		return "nothing else was changed"
	case len(e.Changes) == 0:
		return "nothing was changed"
	}
	return "already changed: " + strings.Join(e.Changes, ", ")
}

// named makes every error of a stage begin with the stage's name, as preconditions already do, so
// each front end prints the same line: "Blue_0: namespace \"x\" does not exist; …".
func named(stage config.Stage, err error) error {
	if err == nil || strings.HasPrefix(err.Error(), stage.String()+":") {
		return err
	}
	return fmt.Errorf("%s: %w", stage, err)
}
