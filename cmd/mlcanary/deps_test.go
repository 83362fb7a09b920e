package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// forbidden says which packages the shipped binary must not link, as crane's depcheck test does
// for its CLI: each rule is an import path prefix (a path equal to it or under it) and why.
var forbidden = []struct{ prefix, why string }{
	{"testing", "the standard library's test framework (and testing/fstest, testing/iotest...)"},
	{"net/http/httptest", "a test server"},
	{"k8s.io/client-go/testing", "client-go's fake object tracker"},
	{"sigs.k8s.io/controller-runtime/pkg/envtest", "the test API server's launcher"},
	{"github.com/mlcanary/mlcanary/internal/testenv", "the test API server and stand-in controller"},
	{"github.com/mlcanary/mlcanary/internal/golden", "the golden-file helper of tests"},
	{"github.com/mlcanary/mlcanary/internal/gatewaysim", "the tests' stand-in ingress gateway"},
	{"k8s.io/client-go/kubernetes", "the typed clientset (about 35 MB); the binary uses the dynamic client"},
	{"istio.io/client-go/pkg/clientset", "Istio's typed clientset"},
	{"istio.io/istio", "Istio's main module (tools/istiovalidate links it, never mlcanary)"},
}

// allowedFakes are packages named fake that are not test doubles: azcore's runtime imports its
// poller for responses of azfake servers unconditionally, so every azcore user links it.
var allowedFakes = map[string]bool{
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/internal/pollers/fake": true,
}

// TestShippedBinaryLinksNoTestCode lists what `go build ./cmd/mlcanary` links and fails on test
// packages, fake clients, envtest, typed clientsets and Istio's main module: they would grow the
// binary that ships four times in a 25 MiB Marketplace package, or put test code in production.
func TestShippedBinaryLinksNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps listed only %d packages: %q", len(deps), deps)
	}
	for _, dep := range deps {
		if why := banned(dep); why != "" {
			t.Errorf("mlcanary links %s: %s", dep, why)
		}
	}
}

// banned returns why the shipped binary must not link pkg, or "" when it may.
func banned(pkg string) string {
	for _, f := range forbidden {
		if pkg == f.prefix || strings.HasPrefix(pkg, f.prefix+"/") {
			return f.why
		}
	}
	if (strings.HasSuffix(pkg, "/fake") || strings.Contains(pkg, "/fake/")) && !allowedFakes[pkg] {
		return "a fake client or server for tests"
	}
	return ""
}

// TestBannedCatchesEachKind keeps the rule honest: each kind of package it is there for is caught,
// and ordinary neighbours of those packages are not.
func TestBannedCatchesEachKind(t *testing.T) {
	for pkg, want := range map[string]bool{
		"testing":                                                            true,
		"testing/fstest":                                                     true,
		"net/http/httptest":                                                  true,
		"k8s.io/client-go/testing":                                           true,
		"k8s.io/client-go/dynamic/fake":                                      true,
		"k8s.io/client-go/kubernetes/fake":                                   true,
		"k8s.io/client-go/kubernetes":                                        true,
		"k8s.io/client-go/kubernetes/typed/apps/v1":                          true,
		"sigs.k8s.io/controller-runtime/pkg/envtest":                         true,
		"sigs.k8s.io/controller-runtime/pkg/client/fake":                     true,
		"istio.io/client-go/pkg/clientset/versioned":                         true,
		"istio.io/istio/pkg/config/validation":                               true,
		"github.com/mlcanary/mlcanary/internal/testenv":                      true,
		"k8s.io/client-go/dynamic":                                           false,
		"k8s.io/client-go/tools/clientcmd":                                   false,
		"istio.io/client-go/pkg/apis/networking/v1":                          false,
		"istio.io/api/networking/v1alpha3":                                   false,
		"net/http":                                                           false,
		"github.com/Azure/azure-sdk-for-go/sdk/azcore/internal/pollers/fake": false,
		"example.com/fakeish":                                                false,
		"testingx":                                                           false,
	} {
		if got := banned(pkg) != ""; got != want {
			t.Errorf("banned(%q) = %q, want banned %v", pkg, banned(pkg), want)
		}
	}
}
