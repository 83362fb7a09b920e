package analyze

import (
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Markdown renders r for the Azure DevOps summary tab and the GitHub step summary: a heading with
// the decision, its reason, a table of each version's requests and error and slow shares with
// their intervals, each share's comparison, the window, the endpoint and the queries as sent.
// Text from the backend or the cluster is escaped (summary.Escape) so it cannot break the markup.
func Markdown(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### mlcanary analysis: %s\n\n%s\n\n", heading(r.Decision), summary.Escape(r.Reason))
	looks := "1 look"
	if r.Looks != 1 {
		looks = fmt.Sprintf("%d looks", r.Looks)
	}
	fmt.Fprintf(&b, "Window %s to %s (%s, at most until %s), %g%% confidence over all looks.\n",
		stamp(r.Window.Start), stamp(r.Window.End), looks, stamp(r.Window.Deadline), 100*r.Confidence)
	if g := r.GreenWindow; g != nil {
		fmt.Fprintf(&b, "%s.\n", summary.Escape(g.sentence()))
	}
	if len(r.Shares) > 0 {
		fmt.Fprintf(&b, "\n| version | requests | errors | slow (over %gms) |\n|---|---:|---|---|\n", r.BoundaryMs)
		for _, v := range []string{"green", "blue"} {
			cells := make([]string, 0, len(r.Shares))
			for _, s := range r.Shares {
				c, iv := s.Green, s.GreenInterval
				if v == "blue" {
					c, iv = s.Blue, s.BlueInterval
				}
				cells = append(cells, share(c, iv))
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", versionLabel(v), r.Versions[v].Requests, cells[0], cells[len(cells)-1])
		}
		b.WriteString("\n")
		for _, s := range r.Shares {
			fmt.Fprintf(&b, "- %s\n", summary.Escape(s.Reason()))
		}
	}
	if r.Decision == analysis.Undecided && r.Needed > 0 {
		fmt.Fprintf(&b, "\n_Requests needed: %s._\n", summary.Escape(r.Assumption))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "\n> **Warning from the backend:** %s\n", summary.Escape(w))
	}
	if len(r.Queries) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>Queries to %s</summary>\n\n```\n", summary.Escape(r.Endpoint))
		for _, q := range r.Queries {
			fmt.Fprintf(&b, "# %s, at %s\n%s\n", oneLine(q.What), stamp(q.Time), oneLine(q.PromQL))
		}
		b.WriteString("```\n\n</details>\n")
	}
	return b.String()
}

// heading is the decision as the summary's title shows it.
func heading(v analysis.Verdict) string {
	switch v {
	case analysis.Agrees:
		return "✅ blue agrees with green"
	case analysis.Degraded:
		return "❌ blue is degraded"
	}
	return "⚠️ undecided"
}

func versionLabel(v string) string {
	if v == "green" {
		return "🟢 green"
	}
	return "🔵 blue"
}

// oneLine keeps text on one line of a fenced code block, which it cannot close: a fence needs a
// line of its own.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
