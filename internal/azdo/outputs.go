package azdo

import (
	"strconv"

	"github.com/mlcanary/mlcanary/internal/summary"
)

// Outputs are the task's output variables for a result, in task.json's order. Later steps read
// them as $(<step name>.<variable>), and later stages through stageDependencies.
func Outputs(r *summary.Result) []Prop {
	return []Prop{
		{"stage", r.Stage},
		{"greenWeight", strconv.Itoa(r.Weights.Green)},
		{"blueWeight", strconv.Itoa(r.Weights.Blue)},
		{"greenImage", r.Images.Green},
		{"blueImage", r.Images.Blue},
		{"changed", strconv.FormatBool(r.Changed)},
	}
}

// OutputVerified is the output variable that says whether traffic was verified after the stage:
// "true", "false", or "" when no verification ran. It is set after the stage's Outputs.
const OutputVerified = "verified"
