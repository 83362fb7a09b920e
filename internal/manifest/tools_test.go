package manifest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tool finds a test tool built from the Go module proxy by scripts/tool.sh: the path in env (make
// test sets it, and then a missing binary fails the test), else .cache/tools/NAME in the repository.
// Under -short, or when it was never built and env is unset, the test is skipped saying how to
// build it.
func tool(t *testing.T, name, env, pkg string) string {
	t.Helper()
	build := "scripts/tool.sh " + name + " " + pkg
	if testing.Short() {
		t.Skipf("-short: needs %s (%s) and a real API server; make test runs it", name, build)
	}
	bin, required := os.LookupEnv(env)
	if !required {
		bin, _ = filepath.Abs(filepath.Join("..", "..", ".cache", "tools", name))
	}
	if _, err := os.Stat(bin); err != nil {
		if required {
			t.Fatalf("%s=%s: %v (build it with %s)", env, bin, err, build)
		}
		t.Skipf("%s is not built: run %s, or make test (which requires it)", name, build)
	}
	return bin
}

// run runs bin with args and stdin, failing the test with its output when it fails.
func run(t *testing.T, stdin string, bin string, args ...string) string {
	t.Helper()
	out, err := execTool(bin, stdin, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
	}
	return out
}

// execTool runs bin with args and stdin and returns its combined output.
func execTool(bin, stdin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
