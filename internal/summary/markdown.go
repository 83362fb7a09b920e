package summary

import (
	"fmt"
	"strings"
	"time"
)

// barWidth is the number of cells in a traffic bar; each cell is 5%.
const barWidth = 20

// Bar draws weight (0–100) as a fixed-width bar, so splits line up at a glance.
func Bar(weight int) string {
	filled := (max(0, min(100, weight))*barWidth + 50) / 100
	return strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
}

// Markdown renders r for the Azure DevOps summary tab and the GitHub step summary: the split as
// bars, the images, the header routes with the curl commands that reach each version, and what
// changed. Text that came from the cluster is escaped so it cannot break the table or the markup.
func Markdown(r *Result) string {
	var b strings.Builder
	title := "mlcanary " + r.Action + ": " + r.Stage
	title += suffix(r)
	fmt.Fprintf(&b, "### %s\n\nNamespace `%s`\n\n", Escape(title), Code(r.Namespace))
	if r.Drift != "" {
		fmt.Fprintf(&b, "> **Warning:** %s\n\n", Escape(r.Drift))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "> **Warning:** %s\n\n", Escape(w))
	}
	b.WriteString("| version | traffic | weight | image | ready |\n|---|---|---:|---|---|\n")
	for _, v := range r.versions() {
		fmt.Fprintf(&b, "| %s | `%s` | **%d%%** | %s | %s |\n", v.label, Bar(v.weight), v.weight, imageCell(v.image), readyCell(v))
	}
	if r.Mirror > 0 {
		fmt.Fprintf(&b, "\n🪞 **Mirror:** blue also receives a copy of %d%% of the default route's requests; its answers are discarded.\n", r.Mirror)
	}
	writeRoutes(&b, r)
	writeChanges(&b, r)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n> **Note:** %s\n", Escape(n))
	}
	if r.ChangedBy != "" {
		fmt.Fprintf(&b, "\n_Last traffic change: %s by %s_\n", r.ChangedAt.Format(time.RFC3339), Escape(r.ChangedBy))
	}
	if r.Lock != nil {
		fmt.Fprintf(&b, "\n> **Locked:** %s\n", Escape(r.Lock.Sentence()))
	}
	return b.String()
}

func writeRoutes(b *strings.Builder, r *Result) {
	if len(r.Routes) == 0 {
		b.WriteString("\nNo header routes: no version can be reached directly.\n")
		return
	}
	b.WriteString("\n**Header routes** reach one version directly, whatever the weights:\n\n```sh\n")
	for _, h := range r.Routes {
		fmt.Fprintf(b, "%s\n", Curl(h))
	}
	b.WriteString("```\n")
}

func writeChanges(b *strings.Builder, r *Result) {
	if len(r.Changes) == 0 {
		if r.Action == "stage" || r.Action == "plan" {
			b.WriteString("\nNo changes: the stage already holds.\n")
		}
		return
	}
	b.WriteString("\n**Changes**\n\n")
	for _, c := range r.Changes {
		fmt.Fprintf(b, "- %s\n", Escape(c))
	}
}

// Curl is the command that reaches one version through the gateway, as the documented flow runs it.
func Curl(h HeaderRoute) string {
	return fmt.Sprintf(`curl -H "%s: %s" "$GATEWAY%s"`, h.Header, h.Value, h.Path)
}

type versionRow struct {
	label  string
	weight int
	image  string
	ready  bool
}

func (r *Result) versions() []versionRow {
	return []versionRow{
		{label: "🟢 green", weight: r.Weights.Green, image: r.Images.Green, ready: r.Ready.Green},
		{label: "🔵 blue", weight: r.Weights.Blue, image: r.Images.Blue, ready: r.Ready.Blue},
	}
}

func imageCell(image string) string {
	if image == "" {
		return "_not deployed_"
	}
	return "`" + Code(image) + "`"
}

func readyCell(v versionRow) string {
	switch {
	case v.image == "":
		return "—"
	case v.ready:
		return "✅ ready"
	}
	return "⏳ not ready"
}

// suffix says when nothing was persisted.
func suffix(r *Result) string {
	switch {
	case r.Action == "plan":
		return " (plan only: nothing was changed)"
	case r.DryRun:
		return " (dry run: nothing was changed)"
	}
	return ""
}
