package config

import "github.com/mlcanary/mlcanary/internal/plan/stage"

// Stage, Kind and the kinds are package stage's (the stage facts belong to plan; stage is the part
// of it config checks inputs against). They keep their config names so the code naming them reads
// as before.
type (
	// Stage is stage.Stage.
	Stage = stage.Stage
	// Kind is stage.Kind.
	Kind = stage.Kind
)

// The stage kinds (stage.Kind).
const (
	KindBlue0     = stage.KindBlue0
	KindBlueN     = stage.KindBlueN
	KindBlue100   = stage.KindBlue100
	KindBlueGreen = stage.KindBlueGreen
	KindGreen100  = stage.KindGreen100
	KindRollback  = stage.KindRollback
	KindShadow    = stage.KindShadow
)

// StageNames is the help text listing the stages a user may type.
const StageNames = stage.Names

// ParseStage reads a stage name as the user typed it (stage.Parse); a name that is no stage is an
// *InputError naming "stage" and what is allowed.
func ParseStage(name string) (Stage, error) {
	s, allowed, ok := stage.Parse(name)
	if !ok {
		return Stage{}, &InputError{Input: "stage", Value: name, Allowed: allowed}
	}
	return s, nil
}
