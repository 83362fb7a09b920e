package engine_test

import (
	"context"
	"os"
	"testing"

	"github.com/mlcanary/mlcanary/internal/testenv"
)

// shared is the package's one API server (TestIstioMissing alone needs another, without Istio's
// CRDs); each test works in its own namespace (newFixture), so tests never see each other's
// objects. Its Setup sets env, and ctrl: one Controller playing the Deployment controller for
// every namespace. A test reads them only after newFixture or shared.Env(t) (under -short neither
// exists and both skip the test).
var (
	shared = testenv.Shared{Setup: func(e *testenv.Env) func() {
		env = e
		ctx, cancel := context.WithCancel(context.Background())
		var done <-chan struct{}
		ctrl, done = e.RunController(ctx)
		return func() { cancel(); <-done }
	}}
	env  *testenv.Env
	ctrl *testenv.Controller
)

func TestMain(m *testing.M) { os.Exit(shared.Main(m)) }
