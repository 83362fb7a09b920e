package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mlcanary/mlcanary/internal/loadtest"
)

// WriteJSON writes r as indented JSON for scripts.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Markdown renders r in the run-summary style the Azure DevOps and GitHub front ends publish:
// a verdict heading, the settings, one table per kind of check, and the problems as a list.
func Markdown(r *Report) string {
	var b strings.Builder
	if r.Passed {
		b.WriteString("## ✅ Traffic verified\n\n")
	} else {
		b.WriteString("## ❌ Traffic does not match\n\n")
	}
	fmt.Fprintf(&b, "Gateway `%s`; weights green %d%% / blue %d%%; %g%% confidence, tolerance ±%g points.\n\n",
		r.Gateway, r.Weights.Green, r.Weights.Blue, 100*r.Confidence, 100*r.Tolerance)
	if len(r.Routes) > 0 {
		b.WriteString("### Header routes\n\n")
		b.WriteString("| Version | Request | Answer | Requests | Own answer | Errors | Verdict |\n")
		b.WriteString("|---|---|---|---:|---:|---:|---|\n")
		for _, rc := range r.Routes {
			own := "–"
			if c := rc.Comparison; c != nil && len(c.Checks) > 0 {
				own = shareCell(c.Checks[0])
			}
			fmt.Fprintf(&b, "| %s | `%s: %s` on `%s` | %s | %d | %s | %d | %s |\n",
				rc.Route.Version, rc.Route.Header, rc.Route.Value, rc.Route.Path, answerCell(rc.Answer),
				rc.Tally.Completed, own, rc.Tally.Failed, verdictCell(rc.Comparison, len(rc.Problems) == 0))
		}
		b.WriteString("\n")
	}
	if d := r.Default; d != nil {
		writeDefault(&b, d, r.Answers)
	}
	if len(r.Problems) > 0 {
		b.WriteString("### Problems\n\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	return b.String()
}

func writeDefault(b *strings.Builder, d *DefaultCheck, answers map[string]Answer) {
	fmt.Fprintf(b, "### Default route `%s`\n\n", d.URL)
	b.WriteString("| Answer | Version | Expected | Observed | Interval | Verdict |\n")
	b.WriteString("|---|---|---:|---:|---|---|\n")
	if c := d.Comparison; c != nil {
		for _, ch := range c.Checks {
			fmt.Fprintf(b, "| %s | %s | %.1f%% | %.1f%% (%d) | [%.1f, %.1f] | %s |\n", cell(ch.Answer), versionOf(ch.Answer, answers),
				100*ch.Expected, 100*ch.Observed, ch.Count, 100*ch.Interval.Low, 100*ch.Interval.High, checkVerdict(ch.Verdict))
		}
	}
	t := d.Tally
	fmt.Fprintf(b, "\n%d requests (%d failed) at %.0f/s; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms.\n\n",
		t.Completed, t.Failed, t.Rate, t.Latency.P50, t.Latency.P90, t.Latency.P99)
}

func versionOf(answer string, answers map[string]Answer) string {
	for _, v := range []string{"green", "blue"} {
		if a, ok := answers[v]; ok && a.Text == answer {
			return v
		}
	}
	return "unexpected"
}

func answerCell(a Answer) string {
	if a.Text == "" {
		return "–"
	}
	if a.Learned {
		return cell(a.Text) + " (learned)"
	}
	return cell(a.Text)
}

// cell quotes an answer for a table cell; a "|" would end the cell, so it is escaped.
func cell(s string) string {
	return strings.ReplaceAll(fmt.Sprintf("%q", s), "|", `\|`)
}

func shareCell(ch loadtest.Check) string {
	return fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*ch.Observed, 100*ch.Interval.Low, 100*ch.Interval.High)
}

// verdictCell shows the comparison's verdict, or a failure when the answers agree but something
// else (errors, no answers) went wrong.
func verdictCell(c *loadtest.Comparison, ok bool) string {
	if c == nil || (!ok && c.Verdict == loadtest.Agree) {
		return "❌ fails"
	}
	return checkVerdict(c.Verdict)
}

func checkVerdict(v loadtest.Verdict) string {
	switch v {
	case loadtest.Agree:
		return "✅ agrees"
	case loadtest.Disagree:
		return "❌ disagrees"
	}
	return "❔ undecided"
}
