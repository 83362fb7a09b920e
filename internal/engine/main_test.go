package engine_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/mlcanary/mlcanary/internal/testenv"
)

// env is one real API server shared by the package's tests; each test works in its own namespace.
var (
	env  *testenv.Env
	ctrl *testenv.Controller
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	env, err = testenv.New(testenv.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the test API server:", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	var done <-chan struct{}
	ctrl, done = env.RunController(ctx)
	defer func() { cancel(); <-done }()
	return m.Run()
}
