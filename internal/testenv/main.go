package testenv

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// Shared is one API server for all the tests of a package, each working in its own namespace. The
// first test that asks for it (Env) starts it; the package's TestMain stops it after the last test:
//
//	var shared testenv.Shared
//	func TestMain(m *testing.M) { os.Exit(shared.Main(m)) }
//
// Under -short no server starts: Env skips the test (SkipIfShort), so `go test -short` runs the
// package's pure and in-memory tests on a machine without the built tools. A test that needs a
// server of its own (one without Istio's CRDs, say) starts it with Start or New and says why.
type Shared struct {
	// Options are those of the server.
	Options Options
	// Setup, when set, runs once on the new server before any test uses it (to start a Controller
	// every test shares, say); the function it returns, when not nil, runs before the server stops.
	Setup func(*Env) (teardown func())

	once     sync.Once
	env      *Env
	err      error
	teardown func()
}

// Env returns the package's server, starting it on first use. It skips t under -short and fails
// it when the server cannot start (the tools are not built: the error names the command).
func (s *Shared) Env(t testing.TB) *Env {
	t.Helper()
	SkipIfShort(t)
	s.once.Do(func() {
		s.env, s.err = New(s.Options)
		if s.err == nil && s.Setup != nil {
			s.teardown = s.Setup(s.env)
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.env
}

// Main runs the package's tests and then stops the server if one started; it returns the exit
// code for os.Exit.
func (s *Shared) Main(m *testing.M) int {
	code := m.Run()
	if s.env != nil {
		if s.teardown != nil {
			s.teardown()
		}
		if err := s.env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping envtest: %v\n", err)
		}
	}
	return code
}
