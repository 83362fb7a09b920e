package app

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/manifest"
)

// TestPlanOutputIsOnlyTheObjects: `plan --offline -o yaml|json` writes only the objects to stdout
// (a YAML stream, a v1 List) and the human plan to stderr; text and markdown stay the human plan;
// a bad -o is one line naming output, exit 2, for plan as for the other commands.
func TestPlanOutputIsOnlyTheObjects(t *testing.T) {
	base := []string{"plan", "Blue_0", "--offline", "--image=acr.io/model:42", "--green-image=acr.io/model:41"}
	code, text, _ := runCLI(t, "", base...)
	if code != 0 || !strings.Contains(text, "plan Blue_0 in namespace abtesting") {
		t.Fatalf("text plan: exit %d\n%s", code, text)
	}
	for _, format := range []string{"yaml", "json"} {
		code, out, errs := runCLI(t, "", append(base, "-o", format)...)
		if code != 0 {
			t.Fatalf("-o %s: exit %d: %s", format, code, errs)
		}
		objs, err := manifest.Parse(out)
		if err != nil || len(objs) == 0 {
			t.Errorf("-o %s: %d objects, %v:\n%s", format, len(objs), err, out)
		}
		if strings.Contains(out, "plan Blue_0") || strings.Contains(out, "note:") {
			t.Errorf("-o %s: the human plan shares stdout:\n%s", format, out)
		}
		if !strings.Contains(errs, "plan Blue_0 in namespace abtesting") || !strings.Contains(errs, "note: offline plan") {
			t.Errorf("-o %s: the human plan is not on stderr:\n%s", format, errs)
		}
		if format == "json" {
			var list map[string]any
			if err := json.Unmarshal([]byte(out), &list); err != nil || list["kind"] != "List" || list["apiVersion"] != "v1" {
				t.Errorf("-o json is not a v1 List (%v):\n%s", err, out)
			}
		}
		// The objects are those the text plan shows, in its order.
		if want, _ := manifest.Parse(strings.Split(text, "---\nplan Blue_0")[0]); len(want) != len(objs) {
			t.Errorf("-o %s has %d objects, the text plan %d", format, len(objs), len(want))
		}
	}
	for _, bad := range []string{"xml", "", "yml", "table", "YAML2"} {
		code, out, errs := runCLI(t, "", append(base, "-o", bad)...)
		if want := "mlcanary: invalid output " + `"` + bad + `"` + ": allowed: text, json, yaml, markdown\n"; code != 2 || out != "" || errs != want {
			t.Errorf("-o %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", bad, code, out, errs, want)
		}
	}
}
