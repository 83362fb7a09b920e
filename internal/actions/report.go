package actions

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Output is one step output; Name matches an `outputs:` entry in action.yml.
type Output struct {
	Name, Value string
}

// Outputs lists the step outputs for a result and the verification after it, in action.yml's
// order, so later steps and jobs can gate on the split (`if: steps.canary.outputs.blue-weight ==
// '50'`), reuse the images, or tell whether traffic was verified ("true", "false", "" when not run).
func Outputs(r *summary.Result, checked verify.Outcome) []Output {
	return []Output{
		{"stage", r.Stage},
		{"green-weight", strconv.Itoa(r.Weights.Green)},
		{"blue-weight", strconv.Itoa(r.Weights.Blue)},
		{"green-image", r.Images.Green},
		{"blue-image", r.Images.Blue},
		{"changed", strconv.FormatBool(r.Changed)},
		{"verified", checked.Verified()},
	}
}

// StepSummary is the Markdown for GITHUB_STEP_SUMMARY: the run summary every front end shows, then
// a pie chart of the split, then the failure (if any), so a failed run still says what holds, then
// what verification found (or why it was skipped).
func StepSummary(r *summary.Result, stageErr error, checked verify.Outcome) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(summary.Markdown(r), "\n"))
	b.WriteString("\n\n")
	b.WriteString(Pie(r))
	if stageErr != nil {
		fmt.Fprintf(&b, "\n> [!CAUTION]\n> %s\n", summary.Escape(config.Printable(stageErr.Error())))
	}
	if v := checked.Markdown(); v != "" {
		b.WriteString("\n" + v)
	}
	return b.String()
}

// Pie renders the default route's split as a Mermaid pie chart, which GitHub draws in step
// summaries. A version with 0% is kept so the legend always names both.
func Pie(r *summary.Result) string {
	title := "Traffic after " + r.Stage
	if r.DryRun {
		title += " (dry run)"
	}
	return fmt.Sprintf("```mermaid\npie showData title %s\n    \"green\" : %d\n    \"blue\" : %d\n```\n",
		mermaidText(title), r.Weights.Green, r.Weights.Blue)
}

// report writes the outputs and the step summary through the runner's files. The library panics
// when a file cannot be written; that becomes an error here.
func report(gh *githubactions.Action, r *summary.Result, stageErr error, checked verify.Outcome) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		if gh.Getenv(name) == "" {
			return fmt.Errorf("%s is not set; run mlcanary github-action only as a GitHub Actions step", name)
		}
	}
	for _, o := range Outputs(r, checked) {
		gh.SetOutput(o.Name, OutputValue(o.Value))
	}
	gh.AddStepSummary(StepSummary(r, stageErr, checked))
	return nil
}

// mermaidText keeps a title on one line and free of characters Mermaid's pie grammar reads.
func mermaidText(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\"", "'", ":", " ").Replace(s)
}
