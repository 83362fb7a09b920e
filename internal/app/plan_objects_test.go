package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/manifest"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// TestPlanObjectsCarryNoServerFields (break-it review of issue #13): `plan -o yaml|json` against a
// cluster printed the live resourceVersion in each updated object, so a saved plan fed to `kubectl
// apply -f -` after any other write to the object was a Conflict. No field the server populates
// (manifest.ServerFields) is printed. Also held here, for a stage that writes, a re-run that writes
// nothing and a refused precondition: stdout is always a valid stream (empty stream / empty List
// when nothing is sent, nothing on failure), the human plan on stderr only, and the exit code the
// stage's (0, 0, 1).
func TestPlanObjectsCarryNoServerFields(t *testing.T) {
	e := testenv.Start(t)
	e.StartController(t)
	ctx := context.Background()
	kc := e.Kubeconfig(t)
	ns := "plan-objects"
	if err := e.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Blue_0", "Blue_50"} {
		if code, _, errs := runCLI(t, kc, "stage", s, "-n", ns, "--image=acr.io/model:42", "--timeout=60"); code != 0 {
			t.Fatalf("stage %s: exit %d\n%s", s, code, errs)
		}
	}
	// A saved plan applied after another write: kubectl apply of the plan's objects is refused.
	_, saved, _ := runCLI(t, kc, "plan", "Blue_100", "-n", ns, "-o", "yaml")
	if code, _, errs := runCLI(t, kc, "stage", "Blue_1", "-n", ns, "--timeout=60"); code != 0 {
		t.Fatalf("stage Blue_1: exit %d\n%s", code, errs)
	}
	if out, err := kubectlTry(kubectlBin(t), kc, saved, "apply", "--dry-run=server", "-f", "-"); err != nil {
		t.Errorf("kubectl apply --dry-run=server of `plan Blue_100 -o yaml` saved before another stage: %v\n%s", err, out)
	}
	if code, _, errs := runCLI(t, kc, "stage", "Blue_50", "-n", ns, "--timeout=60"); code != 0 {
		t.Fatalf("stage Blue_50: exit %d\n%s", code, errs)
	}
	for _, tc := range []struct {
		stage string
		code  int
	}{{"Blue_100", 0}, {"Blue_50", 0}, {"Green_100", 1}} {
		for _, format := range []string{"yaml", "json"} {
			t.Run(tc.stage+" "+format, func(t *testing.T) {
				code, out, errs := runCLI(t, kc, "plan", tc.stage, "-n", ns, "-o", format)
				t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
				if code != tc.code {
					t.Errorf("exit %d, want %d", code, tc.code)
				}
				if _, err := manifest.Parse(out); err != nil {
					t.Errorf("stdout does not parse: %v", err)
				}
				if strings.Contains(out, "plan "+tc.stage) || strings.Contains(out, "note:") {
					t.Errorf("human text on stdout")
				}
				for _, f := range []string{"resourceVersion", "managedFields", "uid", "creationTimestamp", "generation", "selfLink", "status"} {
					if strings.Contains(out, f+":") || strings.Contains(out, `"`+f+`"`) {
						t.Errorf("%s in the objects: a saved plan carries server state", f)
					}
				}
				if code == 0 && format == "json" {
					var list map[string]any
					if err := json.Unmarshal([]byte(out), &list); err != nil || list["kind"] != "List" {
						t.Errorf("-o json on exit 0 is not a List: %v", err)
					}
				}
			})
		}
	}
}

// TestOfflinePlanObjectsHoldNoPlaceholders (break-it review of issue #13): `plan --offline -o
// yaml|json` is documented as the objects to pipe into `kubectl apply -f -`, yet Blue_Green's green
// Deployment carried the placeholder image "<blue's image on the cluster>" and every stage's
// VirtualService the placeholders in mlcanary.io/images: the API server accepts them, and applying
// them starts pods that can never pull. For every stage, in both formats: with the images given
// (--image, --green-image) no placeholder is printed; without them, the stages whose objects hold
// an unknown image exit 2 with one line naming the input and print nothing on stdout, the others
// print the objects; and the text plan keeps its placeholders.
func TestOfflinePlanObjectsHoldNoPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		stage string
		needs string // the input named when only --image is given ("" = none needed)
	}{
		{"Blue_0", "green-image"}, {"Blue_1", "green-image"}, {"Blue_50", "green-image"}, {"Blue_100", "green-image"},
		{"Blue_Green", ""}, {"Green_100", ""}, {"Rollback", "green-image"},
	} {
		for _, format := range []string{"yaml", "json"} {
			t.Run(tc.stage+" "+format, func(t *testing.T) {
				base := []string{"plan", tc.stage, "--offline", "-o", format}
				code, out, errs := runCLI(t, "", append(base, "--image=acr.io/model:42", "--green-image=acr.io/model:41")...)
				if code != 0 {
					t.Fatalf("with both images: exit %d: %s", code, errs)
				}
				if strings.Contains(out, "<") || strings.Contains(out, `\u003c`) {
					t.Errorf("a placeholder in the objects:\n%s", out)
				}
				if _, err := manifest.Parse(out); err != nil {
					t.Errorf("stdout does not parse: %v", err)
				}
				code, out, errs = runCLI(t, "", append(base, "--image=acr.io/model:42")...)
				line := strings.TrimSpace(errs)
				if tc.needs == "" {
					if code != 0 || strings.Contains(out, "<") || strings.Contains(out, `\u003c`) {
						t.Errorf("with --image only: exit %d, stdout:\n%s\n%s", code, out, errs)
					}
				} else if code != 2 || out != "" || strings.Count(line, "\n") != 0 || !strings.Contains(line, "invalid "+tc.needs+" ") {
					t.Errorf("with --image only: exit %d, stdout %q, want 2 and one line naming %s:\n%s", code, out, tc.needs, errs)
				}
				if tc.stage != "Blue_0" {
					code, out, errs = runCLI(t, "", base...)
					if code != 2 || out != "" || !strings.Contains(errs, "invalid ") {
						t.Errorf("with no image: exit %d, stdout %q:\n%s", code, out, errs)
					}
				}
			})
		}
	}
	code, out, errs := runCLI(t, "", "plan", "Blue_50", "--offline")
	if code != 0 || !strings.Contains(out, "<green's image on the cluster>") {
		t.Errorf("the text plan lost its placeholders: exit %d\n%s%s", code, out, errs)
	}
	for _, bad := range [][]string{{"--green-image=acr.io/model"}, {"--green-image=acr.io/model:41", "--kubeconfig=/nonexistent"}} {
		args := append([]string{"plan", "Blue_50", "-o", "yaml"}, bad...)
		if bad[0] == "--green-image=acr.io/model" {
			args = append(args, "--offline")
		}
		code, out, errs := runCLI(t, "", args...)
		if code != 2 || out != "" || !strings.Contains(errs, "invalid green-image") {
			t.Errorf("%v: exit %d, stdout %q:\n%s", args, code, out, errs)
		}
	}
}
