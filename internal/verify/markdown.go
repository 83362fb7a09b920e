package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/mlcanary/mlcanary/internal/loadtest"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// WriteJSON writes r as indented JSON for scripts.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Markdown renders r in the style of summary.Markdown, for the Azure DevOps summary tab and the
// GitHub step summary: a verdict heading, a table of header routes, the default route's expected and
// observed split as bars, and the problems as a list. Answers come from the network, so they are
// escaped before they reach the Markdown.
func Markdown(r *Report) string {
	var b strings.Builder
	verdict := "✅ traffic matches the live routes"
	if !r.Passed {
		verdict = "❌ traffic does not match the live routes"
	}
	fmt.Fprintf(&b, "### mlcanary verify: %s\n\nGateway `%s` · %g%% confidence · tolerance ±%g points\n",
		verdict, summary.Code(r.Gateway), 100*r.Confidence, 100*r.Tolerance)
	if len(r.Routes) > 0 {
		b.WriteString("\n| version | answer | header route | requests | own answer | errors | verdict |\n")
		b.WriteString("|---|---|---|---:|---:|---:|---|\n")
		for _, rc := range r.Routes {
			own := "—"
			if c := rc.Comparison; c != nil && len(c.Checks) > 0 {
				ch := c.Checks[0]
				own = fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*ch.Observed, 100*ch.Interval.Low, 100*ch.Interval.High)
			}
			fmt.Fprintf(&b, "| %s | %s | `%s: %s` on `%s` | %d | %s | %d | %s |\n",
				label(rc.Route.Version), answerCell(rc.Answer), summary.Code(rc.Route.Header), summary.Code(rc.Route.Value), summary.Code(rc.Route.Path),
				rc.Tally.Completed, own, rc.Tally.Failed, verdictCell(rc.Comparison, len(rc.Problems) == 0))
		}
	}
	if d := r.Default; d != nil {
		writeDefault(&b, d, r.Answers)
	}
	if r.Mirror > 0 {
		writeMirror(&b, r.Mirror, r.MirrorCheck)
	}
	if len(r.Problems) > 0 {
		b.WriteString("\n**Problems**\n\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "- %s\n", summary.Escape(p))
		}
	}
	return b.String()
}

func writeDefault(b *strings.Builder, d *DefaultCheck, answers map[string]Answer) {
	t := d.Tally
	fmt.Fprintf(b, "\n**Default route** `%s`: %d requests (%d failed) at %.0f/s; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms\n",
		summary.Code(d.URL), t.Completed, t.Failed, t.Rate, t.Latency.P50, t.Latency.P90, t.Latency.P99)
	c := d.Comparison
	if c == nil {
		return
	}
	b.WriteString("\n| answer | version | expected | observed | interval | verdict |\n|---|---|---|---|---:|---|\n")
	for _, ch := range c.Checks {
		fmt.Fprintf(b, "| %s | %s | `%s` %.1f%% | `%s` %.1f%% (%d) | [%.1f, %.1f] | %s |\n",
			quoted(ch.Answer), versionOf(ch.Answer, answers),
			summary.Bar(percent(ch.Expected)), 100*ch.Expected, summary.Bar(percent(ch.Observed)), 100*ch.Observed, ch.Count,
			100*ch.Interval.Low, 100*ch.Interval.High, checkVerdict(ch.Verdict))
	}
}

func percent(share float64) int { return int(math.Round(100 * share)) }

// label names a version the way summary.Markdown does.
func label(version string) string {
	switch version {
	case "green":
		return "🟢 green"
	case "blue":
		return "🔵 blue"
	}
	return summary.Escape(version)
}

func versionOf(answer string, answers map[string]Answer) string {
	for _, v := range []string{"green", "blue"} {
		if a, ok := answers[v]; ok && a.Text == answer {
			return label(v)
		}
	}
	return "_unexpected_"
}

func answerCell(a Answer) string {
	switch {
	case a.Text == "":
		return "—"
	case a.Learned:
		return quoted(a.Text) + " _(learned)_"
	}
	return quoted(a.Text)
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

// quoted shows an answer in quotes, escaped.
func quoted(s string) string { return summary.Escape(fmt.Sprintf("%q", s)) }

// writeMirror is the report's mirror line: what the copies should be and what was counted.
func writeMirror(b *strings.Builder, share int, mc *MirrorCheck) {
	fmt.Fprintf(b, "\n**Mirror**: Blue also gets a copy of %d%% of the default route's requests; clients must get only the answers above. ", share)
	switch {
	case mc == nil || !mc.Measured:
		b.WriteString("The copies reach no client and were not counted: verify counts them from the pods' Istio metrics when it has an analysis source (a Prometheus URL).\n")
	case mc.Counts.Source == "":
		fmt.Fprintf(b, "The copies could not be counted (%d requests sent to the default route).\n", mc.Sent)
	default:
		verdict := "✅"
		switch {
		case mc.Problem != "":
			verdict = "❌"
		case mc.Undecided:
			verdict = "(within reach of the interval, but too few requests to confirm; more with -n)"
		}
		other := ""
		if mc.Counts.BlueSent > 0 {
			other = fmt.Sprintf(", %d of them sent to blue by a client (not copies)", mc.Counts.BlueSent)
		}
		fmt.Fprintf(b, "While verify sent %d requests to the default route, green's pods answered %d and blue's %d%s: %d copies, %.1f%% of verify's requests and %.1f%% of green's %s (counted by %s).\n",
			mc.Sent, mc.Counts.Green, mc.Counts.Blue, other, mc.Counts.Copies(), mc.Share, mc.OfGreen, verdict, summary.Code(mc.Counts.Source))
	}
}
