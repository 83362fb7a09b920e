// Package stage names the stages of the flow and the facts about each that hold whatever the
// cluster: its name, the split it establishes, and what it needs as input. It is package plan's
// (plan decides what a stage does) but on its own, so package config can check a run's inputs
// against it before anything is sent: plan imports config for the inputs it decides on, so config
// cannot import plan. config names these types config.Stage and config.Kind.
package stage

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
	// KindShadow is Shadow_N: green keeps the default route's traffic and blue gets a copy of N% of
	// its requests (Istio's mirror), whose answers are discarded.
	KindShadow Kind = "Shadow_N"
)

// Stage is one step of the flow with the traffic split it establishes. The zero Stage is none (a
// command that performs no stage: status, verify).
type Stage struct {
	Kind Kind
	// BlueWeight is the percentage of default-route traffic for blue; green gets the rest.
	BlueWeight int
	// Mirror is, for Shadow_N, the percentage (1..100) of the default route's requests also sent
	// to blue; 0 for every other stage.
	Mirror int
}

// Names is the help text listing the stages a user may type.
const Names = "Blue_0, Shadow_1..Shadow_100, Blue_1..Blue_99 (Blue_50 is the documented one), Blue_100, Blue_Green, Green_100, Rollback"

// String returns the stage's name as a user types it (Blue_50, Green_100, ...).
func (s Stage) String() string {
	if s.Kind == KindBlueN {
		return fmt.Sprintf("Blue_%d", s.BlueWeight)
	}
	if s.Kind == KindShadow {
		return fmt.Sprintf("Shadow_%d", s.Mirror)
	}
	return string(s.Kind)
}

// Weights returns the nominal green and blue weights the stage establishes (they sum to 100).
func (s Stage) Weights() (green, blue int) {
	return 100 - s.BlueWeight, s.BlueWeight
}

// NeedsImage reports whether the stage needs an image as input: Blue_0 deploys it as blue. The
// other stages read the images from the cluster and only compare one that is given (README,
// "Transitions").
func (s Stage) NeedsImage() bool { return s.Kind == KindBlue0 }

// Parse reads a stage name, case-insensitively, so "blue_50" and "Blue_50" are the same. When name
// is no stage it returns what is allowed instead, for the caller's input error: always Names,
// whatever the fault (Blue_500, Blue_x, foo), so the input is described one way.
func Parse(name string) (s Stage, allowed string, ok bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "blue_0":
		return Stage{Kind: KindBlue0}, "", true
	case "blue_100":
		return Stage{Kind: KindBlue100, BlueWeight: 100}, "", true
	case "blue_green":
		return Stage{Kind: KindBlueGreen, BlueWeight: 100}, "", true
	case "green_100":
		return Stage{Kind: KindGreen100}, "", true
	case "rollback":
		return Stage{Kind: KindRollback}, "", true
	}
	if rest, found := strings.CutPrefix(n, "blue_"); found {
		if w, ok := percent(rest, 99); ok {
			return Stage{Kind: KindBlueN, BlueWeight: w}, "", true
		}
	}
	if rest, found := strings.CutPrefix(n, "shadow_"); found {
		if m, ok := percent(rest, 100); ok {
			return Stage{Kind: KindShadow, Mirror: m}, "", true
		}
	}
	return Stage{}, Names, false
}

// percent reads a stage's number written plainly (no sign, no leading zero) in 1..most.
func percent(s string, most int) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= most && strconv.Itoa(n) == s
}
