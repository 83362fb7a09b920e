// Package golden compares test output with files in the calling package's testdata directory, the
// pattern of Go's own gofmt tests: `make golden` (scripts/golden.sh) rewrites the files after an
// intended change, and the diff in review shows what changed. The -update flag exists only in test
// binaries that import this package, so `go test ./... -update` fails in those that do not; `go
// test ./internal/summary -update` works for one package.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// Assert fails t when got differs from testdata/name, or rewrites that file with -update.
func Assert(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run make golden to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run make golden if the change is intended:\n%s", path, diff)
	}
}
