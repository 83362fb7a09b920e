// Package testenv starts a real kube-apiserver and etcd (through controller-runtime's envtest) with
// Istio's own CRDs installed, for tests of code that talks to Kubernetes. No kubelet or controller
// runs: Controller plays the Deployment controller by writing status subresources, so a test decides
// when a Deployment becomes ready.
//
// The binaries are built from the Go module proxy by `make tools` into .cache/bin (see tools/);
// KUBEBUILDER_ASSETS overrides the directory.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Env is a running API server with Istio's CRDs.
type Env struct {
	// Config authenticates as a cluster admin.
	Config *rest.Config
	// Dynamic is a client tests use for setup and assertions (not counted by request counters).
	Dynamic dynamic.Interface
	env     *envtest.Environment
	mu      sync.Mutex
	kubecfg []byte // the admin kubeconfig, once made
}

// ShortSkipReason is the one reason a test that needs the API server gives when it skips under
// -short: `go test -short ./...` is the tier of pure and in-memory tests, `make test` runs all.
const ShortSkipReason = "needs kube-apiserver and etcd (built by `make tools`): skipped with -short; `make test` runs it"

// SkipIfShort skips t under -short with ShortSkipReason. Every test that needs the API server calls
// it (Start does) before touching one; without -short a missing server is a failure, never a skip.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip(ShortSkipReason)
	}
}

// Start starts an API server for the test and stops it when the test ends. It skips the test under
// -short (SkipIfShort) and otherwise fails it when the binaries are missing, naming the command
// that builds them. Tests of one package share one server through Shared instead.
func Start(t testing.TB) *Env {
	t.Helper()
	SkipIfShort(t)
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Logf("stopping envtest: %v", err)
		}
	})
	return e
}

// Options change what New starts.
type Options struct {
	// WithoutIstio leaves Istio's CRDs out, as on a cluster where Istio is not installed.
	WithoutIstio bool
}

// New starts an API server; the caller must Stop it. Packages share one through Shared.
func New(o Options) (*Env, error) {
	assets, err := assetsDir()
	if err != nil {
		return nil, err
	}
	quietOnce.Do(func() { ctrllog.SetLogger(logr.Discard()) }) // envtest's logs are not ours to print
	te := &envtest.Environment{BinaryAssetsDirectory: assets}
	// envtest's default Service range (10.0.0.0/24) holds 253 ClusterIPs; one package's tests share
	// one API server and create more Services than that ("range is full").
	te.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16")
	if !o.WithoutIstio {
		crds, err := IstioCRDs()
		if err != nil {
			return nil, err
		}
		te.CRDInstallOptions = envtest.CRDInstallOptions{Paths: []string{crds}, ErrorIfPathMissing: true}
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		_ = te.Stop()
		return nil, err
	}
	e := &Env{Config: cfg, Dynamic: dyn, env: te}
	if !o.WithoutIstio { // a cluster with Istio has its ingress gateway, which a stage looks for
		if _, err := e.IngressFixture(context.Background(), "istio"); err != nil {
			_ = te.Stop()
			return nil, err
		}
	}
	return e, nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error { return e.env.Stop() }

// UserConfig returns credentials for a user in groups, with no permissions beyond what RBAC grants
// those groups, for tests of forbidden requests.
func (e *Env) UserConfig(name string, groups ...string) (*rest.Config, error) {
	e.mu.Lock() // parallel tests share the server
	defer e.mu.Unlock()
	user, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding user %s: %w", name, err)
	}
	return user.Config(), nil
}

// Kubeconfig writes an admin kubeconfig for the server to a temporary file of t and returns its
// path, for tests that drive the binary the way a user does (--kubeconfig, KUBECONFIG). The
// credentials are made once per server; the file is t's, since tests of a package share a server.
func (e *Env) Kubeconfig(t testing.TB) string {
	t.Helper()
	data, err := e.adminKubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (e *Env) adminKubeconfig() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kubecfg != nil {
		return e.kubecfg, nil
	}
	user, err := e.env.AddUser(envtest.User{Name: "mlcanary-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding kubeconfig user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return nil, fmt.Errorf("rendering kubeconfig: %w", err)
	}
	e.kubecfg = data
	return data, nil
}

// assetsDir finds the directory with kube-apiserver and etcd: KUBEBUILDER_ASSETS, else the
// repository's .cache/bin.
func assetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, ".cache", "bin")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("%s is missing from %s: run `make tools` to build it from the Go module proxy", b, dir)
		}
	}
	return dir, nil
}

var quietOnce sync.Once

var crdOnce = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/api").Output()
	if err != nil {
		return "", fmt.Errorf("locating the istio.io/api module with go list: %w", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "kubernetes", "customresourcedefinitions.gen.yaml")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("istio CRDs: %w", err)
	}
	return path, nil
})

// IstioCRDs returns the path of Istio's CRD file in the istio.io/api module this repository pins.
func IstioCRDs() (string, error) { return crdOnce() }

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !strings.Contains(dir, string(filepath.Separator)+"tools"+string(filepath.Separator)) {
			if data, _ := os.ReadFile(filepath.Join(dir, "go.mod")); strings.HasPrefix(string(data), "module github.com/mlcanary/mlcanary\n") {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no mlcanary go.mod above the working directory")
		}
		dir = parent
	}
}
