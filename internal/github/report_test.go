package github

import (
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// A stage's error is text mlcanary did not all write (cluster messages, values): in the step
// summary it goes through the one Markdown escaper, like the rest of the summary.
func TestStepSummaryEscapesTheFailure(t *testing.T) {
	t.Parallel()
	r := &summary.Result{Action: "stage", Stage: "Blue_50", Namespace: "abtesting"}
	md := StepSummary(r, "pod says <img src=x> | *boom* [x](y)", verify.Outcome{}, "")
	want := `> pod says &lt;img src=x&gt; \| \*boom\* \[x\](y)` + "\n"
	if !strings.Contains(md, "> [!CAUTION]\n"+want) {
		t.Errorf("step summary lacks the escaped failure %q:\n%s", want, md)
	}
}
