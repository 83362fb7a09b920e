package azdo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// TestSummaryWarnings: a stage's warnings (the namespace's sidecar injection, an undetected
// gateway) are a warning issue each on the run's summary page, and a Warning line in the attached
// summary.
func TestSummaryWarnings(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": dir}
	var out bytes.Buffer
	f := NewFront(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out)
	w := "namespace abtesting has no sidecar-injection label: its pods get no Istio sidecar"
	res := &summary.Result{Action: "stage", Stage: "Blue_0", Weights: summary.Weights{Green: 100}, Warnings: []string{w}}
	if err := f.Summary(context.Background(), frontend.Outcome{Result: res, StageErr: errors.New("failed")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "##vso[task.logissue type=warning;]"+w+"\n") {
		t.Errorf("no warning issue:\n%s", out.String())
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Fatalf("attachments %v", files)
	}
	if md, _ := os.ReadFile(dir + "/" + files[0].Name()); !strings.Contains(string(md), "> **Warning:** "+w) {
		t.Errorf("summary:\n%s", md)
	}
}
