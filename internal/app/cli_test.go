package app

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/summary"
)

// TestCLIAgainstCluster drives the binary's commands as a user would, with KUBECONFIG pointing at
// a real API server: stage, a re-run, status -o json, plan (diff), and a refused stage (exit 1).
func TestCLIAgainstCluster(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	if err := e.CreateNamespace(context.Background(), "abtesting"); err != nil {
		t.Fatal(err)
	}
	kubeconfig := e.Kubeconfig(t)
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		env := func(k string) (string, bool) {
			return map[string]string{"KUBECONFIG": kubeconfig}[k], k == "KUBECONFIG"
		}
		code := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args, env)
		return code, out.String(), errb.String()
	}
	for _, args := range [][]string{
		{"stage", "Blue_0", "--image-repo=myacr.azurecr.io/model", "--image-tag=1"},
		{"stage", "Blue_100"}, {"stage", "Blue_Green"}, {"stage", "Green_100"},
		{"stage", "Blue_0", "--image=myacr.azurecr.io/model:2"},
	} {
		if code, out, errs := run(args...); code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	code, out, _ := run("stage", "Blue_0", "--image=myacr.azurecr.io/model:2", "-o", "markdown")
	if code != ExitOK || !strings.Contains(out, "No changes: the stage already holds.") {
		t.Errorf("re-run: exit %d\n%s", code, out)
	}
	code, out, _ = run("plan", "Blue_50")
	if code != ExitOK || !strings.Contains(out, "+      weight: 50") {
		t.Errorf("plan: exit %d\n%s", code, out)
	}
	code, out, _ = run("stage", "Rollback", "--dry-run")
	if code != ExitOK || !strings.Contains(out, "Deployment abtesting/model-blue would be deleted") || !strings.Contains(out, "--- live Deployment abtesting/model-blue") {
		t.Errorf("stage --dry-run: exit %d\n%s", code, out)
	}
	code, out, _ = run("status", "-o", "json")
	var st summary.Result
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != ExitOK {
		t.Fatalf("status -o json: exit %d, %v\n%s", code, err, out)
	}
	if st.Stage != "Blue_0" || st.Weights != (summary.Weights{Green: 100}) || st.Images != (summary.Images{Green: "myacr.azurecr.io/model:1", Blue: "myacr.azurecr.io/model:2"}) {
		t.Errorf("status: %+v", st)
	}
	code, _, errs := run("stage", "Green_100")
	if code != ExitFailed || !strings.Contains(errs, "Green_100: green runs myacr.azurecr.io/model:1 but blue runs myacr.azurecr.io/model:2") || strings.Count(errs, "\n") != 1 {
		t.Errorf("refused Green_100: exit %d, stderr %q", code, errs)
	}
}
