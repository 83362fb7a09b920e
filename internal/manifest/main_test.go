package manifest_test

import (
	"context"
	"os"
	"testing"

	"github.com/mlcanary/mlcanary/internal/testenv"
)

// shared is the package's one API server, started by the first test that needs it; each test works
// in a namespace of its own (serverWith).
var shared testenv.Shared

func TestMain(m *testing.M) { os.Exit(shared.Main(m)) }

// serverWith returns the package's API server with namespace ns created in it.
func serverWith(t *testing.T, ns string) *testenv.Env {
	t.Helper()
	e := shared.Env(t)
	if err := e.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return e
}
