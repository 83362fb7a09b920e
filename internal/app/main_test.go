package app

import (
	"os"
	"testing"

	"github.com/mlcanary/mlcanary/internal/testenv"
)

// shared is the package's one API server, started by the first test that needs it: each test works
// in namespaces of its own and runs its own Controller (tests that need the server do not run in
// parallel, so one Controller is live at a time and a test's Hold is never undone by another's).
var shared testenv.Shared

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(childArgs); ok { // re-executed as a run a test kills (lock_test.go)
		os.Exit(runChild(args))
	}
	os.Exit(shared.Main(m))
}
