package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the family a stage belongs to; Blue_N stages share one kind and differ by weight.
type Kind string

// The stage kinds. Their preconditions and effects are in package plan and in the README.
const (
	KindBlue0     Kind = "Blue_0"
	KindBlueN     Kind = "Blue_N"
	KindBlue100   Kind = "Blue_100"
	KindBlueGreen Kind = "Blue_Green"
	KindGreen100  Kind = "Green_100"
	KindRollback  Kind = "Rollback"
)

// Stage is one step of the flow with the traffic split it establishes.
type Stage struct {
	Kind Kind
	// BlueWeight is the percentage of default-route traffic for blue; green gets the rest.
	BlueWeight int
}

// StageNames is the help text listing the stages a user may type.
const StageNames = "Blue_0, Blue_1..Blue_99 (Blue_50 is the documented one), Blue_100, Blue_Green, Green_100, Rollback"

// String returns the stage's name as a user types it (Blue_50, Green_100, ...).
func (s Stage) String() string {
	if s.Kind == KindBlueN {
		return fmt.Sprintf("Blue_%d", s.BlueWeight)
	}
	return string(s.Kind)
}

// Weights returns the nominal green and blue weights the stage establishes (they sum to 100).
func (s Stage) Weights() (green, blue int) {
	return 100 - s.BlueWeight, s.BlueWeight
}

// ParseStage reads a stage name, case-insensitively, so "blue_50" and "Blue_50" are the same.
func ParseStage(name string) (Stage, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "blue_0":
		return Stage{Kind: KindBlue0}, nil
	case "blue_100":
		return Stage{Kind: KindBlue100, BlueWeight: 100}, nil
	case "blue_green":
		return Stage{Kind: KindBlueGreen, BlueWeight: 100}, nil
	case "green_100":
		return Stage{Kind: KindGreen100}, nil
	case "rollback":
		return Stage{Kind: KindRollback}, nil
	}
	if rest, ok := strings.CutPrefix(n, "blue_"); ok {
		w, err := strconv.Atoi(rest)
		if err == nil && w >= 1 && w <= 99 && strconv.Itoa(w) == rest {
			return Stage{Kind: KindBlueN, BlueWeight: w}, nil
		}
		if err == nil {
			return Stage{}, &InputError{Input: "stage", Value: name, Allowed: "Blue_N with N a whole number from 1 to 99, or " + StageNames}
		}
	}
	return Stage{}, &InputError{Input: "stage", Value: name, Allowed: StageNames}
}
