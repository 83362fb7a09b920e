package summary

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Text renders r for a terminal.
func Text(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s in namespace %s", r.Action, r.Stage, r.Namespace)
	b.WriteString(suffix(r) + "\n")
	if r.Drift != "" {
		fmt.Fprintf(&b, "%s\n", r.Drift)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	for _, v := range r.versions() {
		image, ready := v.image, "not ready"
		if image == "" {
			image, ready = "(not deployed)", "-"
		} else if v.ready {
			ready = "ready"
		}
		fmt.Fprintf(&b, "  %-6s %s %3d%%  %s  %s\n", strings.Fields(v.label)[1], Bar(v.weight), v.weight, image, ready)
	}
	if r.Mirror > 0 {
		fmt.Fprintf(&b, "  mirror: blue also receives a copy of %d%% of the default route's requests (answers discarded)\n", r.Mirror)
	}
	for _, h := range r.Routes {
		fmt.Fprintf(&b, "  header route %s: %s\n", h.Version, Curl(h))
	}
	if len(r.Changes) == 0 && r.Action != "status" {
		b.WriteString("no changes: the stage already holds\n")
	}
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "  - %s\n", c)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r.ChangedBy != "" {
		fmt.Fprintf(&b, "last traffic change: %s by %s\n", r.ChangedAt.Format(time.RFC3339), r.ChangedBy)
	}
	if r.Lock != nil {
		fmt.Fprintf(&b, "locked: %s\n", r.Lock.Sentence())
	}
	return b.String()
}

// Formats lists the values -o accepts.
const Formats = "text, json, yaml, markdown"

// Render renders r in format (text, json, yaml or markdown).
func Render(r *Result, format string) (string, error) {
	switch format {
	case "text", "":
		return Text(r), nil
	case "markdown", "md":
		return Markdown(r), nil
	case "json":
		data, err := json.MarshalIndent(r, "", "  ")
		return string(data) + "\n", err
	case "yaml":
		data, err := yaml.Marshal(r)
		return string(data), err
	}
	return "", fmt.Errorf("unknown output format %q", format)
}
