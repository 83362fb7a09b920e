package actions

import (
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/summary"
)

// coreMarkdown is the run summary shared by every front end.
//
// TODO(lead): replace the body with `return summary.Markdown(r)` once the shared renderer lands;
// until then this renders only the facts the step outputs carry, so the step summary is not empty.
func coreMarkdown(r *summary.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## mlcanary %s in `%s`\n\n", r.Stage, r.Namespace)
	b.WriteString("| version | weight | image |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| green | %d%% | %s |\n", r.Weights.Green, code(r.Images.Green))
	fmt.Fprintf(&b, "| blue | %d%% | %s |\n", r.Weights.Blue, code(r.Images.Blue))
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "\n- %s", c)
	}
	return b.String()
}

func code(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + s + "`"
}
