package frontend

import (
	"strconv"
	"strings"

	"github.com/mlcanary/mlcanary/internal/summary"
)

// Output is one value a run gives later steps. Name is the GitHub Action's output name (action.yml
// `outputs:`); the Azure DevOps task's output variable is TaskName(Name) (task.json
// `outputVariables`).
type Output struct {
	Name, Value string
}

// OutputDecision is the analysis gate's verdict after the stage (--analysis): "agrees",
// "degraded" or "undecided"; "" when no analysis ran or it ended without a verdict (a failed query).
// It is set right after the stage's Outputs, once the gate is over: after an automatic Rollback
// those are Rollback's, and decision says why.
const OutputDecision = "decision"

// OutputVerified says whether traffic was verified after the stage: "true", "false", or "" when no
// verification ran. It is set after the stage's Outputs, once verification is over.
const OutputVerified = "verified"

// OutputAgreement is the share of the compared requests blue answered like green (compare.Outcome's
// Agreement: "0.9987"), or "" when no comparison ran. It is set after OutputVerified, once the
// comparison is over.
const OutputAgreement = "agreement"

// Outputs are the values every front end sets for a result, in action.yml's and task.json's order,
// so later steps and stages can gate on the split, reuse the images or see what changed. The
// verified output (OutputVerified) follows once verification is over.
func Outputs(r *summary.Result) []Output {
	return []Output{
		{"stage", r.Stage},
		{"green-weight", strconv.Itoa(r.Weights.Green)},
		{"blue-weight", strconv.Itoa(r.Weights.Blue)},
		{"green-image", r.Images.Green},
		{"blue-image", r.Images.Blue},
		{"changed", strconv.FormatBool(r.Changed)},
	}
}

// OutputNames lists every output's name, then OutputDecision, OutputVerified and OutputAgreement in
// the order they are set, for the tests that keep action.yml and task.json in step.
func OutputNames() []string {
	var names []string
	for _, o := range Outputs(&summary.Result{}) {
		names = append(names, o.Name)
	}
	return append(names, OutputDecision, OutputVerified, OutputAgreement)
}

// TaskName is the Azure DevOps spelling of an output or input name: camelCase, because the agent
// allows only letters and digits ("green-weight" → "greenWeight").
func TaskName(name string) string {
	parts := strings.Split(name, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
