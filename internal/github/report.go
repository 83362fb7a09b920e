package github

import (
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// StepSummary is the Markdown for GITHUB_STEP_SUMMARY: the run summary every front end shows, then
// a pie chart of the split, then the run's error line (failure, "" when it succeeded), so a failed
// run still says what holds, then the analysis gate's evidence (analysis: its Markdown section, ""
// when none ran), then what verification found (or why it was skipped).
func StepSummary(r *summary.Result, failure string, checked verify.Outcome, analysis string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(summary.Markdown(r), "\n"))
	b.WriteString("\n\n")
	b.WriteString(Pie(r))
	if failure != "" {
		fmt.Fprintf(&b, "\n> [!CAUTION]\n> %s\n", summary.Escape(failure))
	}
	if analysis != "" {
		b.WriteString("\n" + analysis)
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

// mermaidText keeps a title on one line and free of characters Mermaid's pie grammar reads.
func mermaidText(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\"", "'", ":", " ").Replace(s)
}
