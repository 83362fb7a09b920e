package verify

import (
	"github.com/mlcanary/mlcanary/internal/loadtest"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Report is the outcome of Verify, rendered as Markdown or JSON.
type Report struct {
	// Passed is true when every check agrees and nothing stopped a check.
	Passed  bool            `json:"passed"`
	Gateway string          `json:"gateway"`
	Weights summary.Weights `json:"weights"`
	// Mirror is the share of the default route's requests copied to blue (Target.Mirror), 0 for none.
	Mirror int `json:"mirror,omitempty"`
	// Confidence and Tolerance are the statistical settings every comparison used.
	Confidence float64 `json:"confidence"`
	Tolerance  float64 `json:"tolerance"`
	// Answers maps each version to the answer that identifies it.
	Answers map[string]Answer `json:"answers"`
	Routes  []RouteCheck      `json:"routes"`
	// Default is nil when the split could not be measured (see Problems).
	Default *DefaultCheck `json:"default,omitempty"`
	// MirrorCheck is the measurement of the mirror's copies, when Mirror > 0.
	MirrorCheck *MirrorCheck `json:"mirrorCheck,omitempty"`
	// Problems are one sentence each, naming the check and by how much it is off.
	Problems []string `json:"problems"`
}

// Answer is the text that identifies a version, and whether it was learned from its header route
// rather than configured.
type Answer struct {
	Text    string `json:"text"`
	Learned bool   `json:"learned"`
}

// RouteCheck is the measurement of one header route.
type RouteCheck struct {
	Route  summary.HeaderRoute `json:"route"`
	Answer Answer              `json:"answer"`
	Measurement
	Problems []string `json:"problems,omitempty"`
}

// DefaultCheck is the measurement of the weighted default route.
type DefaultCheck struct {
	Expected []loadtest.Expectation `json:"expected"`
	Measurement
	Problems []string `json:"problems,omitempty"`
}

// Measurement is one load test and its comparison with the expected answers.
type Measurement struct {
	URL        string               `json:"url"`
	Tally      loadtest.Report      `json:"tally"`
	Comparison *loadtest.Comparison `json:"comparison,omitempty"`
	tally      *loadtest.Tally
}
