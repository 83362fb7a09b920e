package app

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The github-action command reports bad input once, as an annotation on stdout, and exits 2; the
// error is printed by that front end alone, so stderr stays empty.
func TestGitHubActionCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"INPUT_STAGE":         "Blue_150",
		"INPUT_KUBECONFIG":    "apiVersion: v1\nkind: Config\n",
		"GITHUB_OUTPUT":       filepath.Join(dir, "out"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var out, errOut bytes.Buffer
	code := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, []string{"github-action"}, lookup)
	if code != ExitInvalid {
		t.Errorf("exit code = %d, want %d", code, ExitInvalid)
	}
	if want := `::error title=mlcanary::invalid stage "Blue_150"`; !strings.Contains(out.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, out.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr should be empty (the annotation is the one print), got:\n%s", errOut.String())
	}
	if strings.Count(out.String(), "::error") != 1 {
		t.Errorf("want one annotation:\n%s", out.String())
	}
}
