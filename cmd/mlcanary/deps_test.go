package main

import (
	"errors"
	"os/exec"
	"path"
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
	{"k8s.io/client-go/kubernetes", "the typed clientset (about 35 MB); the binary uses the dynamic client"},
	{"istio.io/client-go/pkg/clientset", "Istio's typed clientset"},
	{"istio.io/istio", "Istio's main module (tools/istiovalidate links it, never mlcanary)"},
}

// module is this repository's module path: its own packages are classified below.
const module = "github.com/mlcanary/mlcanary"

// testOnly are this module's packages that exist for tests (paths relative to module), each with
// what it is. Every package of the module whose name has "test" in it must be listed here or in
// shippedDespiteName (TestEveryTestNamedPackageIsClassified), so a new one is decided, not missed.
var testOnly = map[string]string{
	"internal/testenv":            "the test API server and stand-in controller",
	"internal/golden":             "the golden-file helper of tests",
	"internal/gatewaysim":         "the tests' stand-in ingress gateway",
	"internal/azdo/azdotest":      "the tests' local Azure DevOps server",
	"internal/aks/akstest":        "the tests' local Azure Resource Manager",
	"internal/istioprom/promtest": "the tests' real Prometheus and Azure Monitor stand-in",
}

// shippedDespiteName are this module's packages whose name reads as test code but which are part
// of the product.
var shippedDespiteName = map[string]string{
	"internal/loadtest": "the loadtest command",
}

// testNamed is the naming rule for this module's test packages, Go's own (httptest, fstest): a
// path element that starts or ends with "test" (testenv, azdotest, akstest), so a package under
// such a directory is test code too.
func testNamed(name string) bool {
	return strings.HasPrefix(name, "test") || strings.HasSuffix(name, "test")
}

// ownTestPackage returns why pkg, a package of this module, exists only for tests, or "": it, or
// a directory it is under, is listed in testOnly or is test-named and not in shippedDespiteName.
func ownTestPackage(pkg string) string {
	rel, ok := strings.CutPrefix(pkg, module+"/")
	if !ok {
		return ""
	}
	for dir := rel; dir != "." && dir != "/"; dir = path.Dir(dir) {
		if why, ok := testOnly[dir]; ok {
			return why
		}
		if _, ok := shippedDespiteName[dir]; !ok && testNamed(path.Base(dir)) {
			return "a test package of this module (" + path.Base(dir) + " is named *test or test*; list it in shippedDespiteName if it ships)"
		}
	}
	return ""
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
	if why := ownTestPackage(pkg); why != "" {
		return why
	}
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
		"github.com/mlcanary/mlcanary/internal/golden":                       true,
		"github.com/mlcanary/mlcanary/internal/gatewaysim":                   true,
		"github.com/mlcanary/mlcanary/internal/azdo/azdotest":                true,
		"github.com/mlcanary/mlcanary/internal/aks/akstest":                  true,
		"github.com/mlcanary/mlcanary/internal/newthingtest":                 true,
		"github.com/mlcanary/mlcanary/internal/testutil/sub":                 true,
		"github.com/mlcanary/mlcanary/internal/loadtest":                     false,
		"github.com/mlcanary/mlcanary/internal/azdo":                         false,
		"example.com/other/azdotest":                                         false,
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

// TestEveryTestNamedPackageIsClassified: every package of this module whose name has "test" in
// it is listed as test code (testOnly) or as part of the product (shippedDespiteName), and every
// listed package exists, so the depcheck's list cannot silently miss a new test server (as it once
// missed azdotest and akstest) nor keep names that no longer mean anything.
func TestEveryTestNamedPackageIsClassified(t *testing.T) {
	out, err := exec.Command("go", "list", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list %s/...: %v", module, err)
	}
	exists := map[string]bool{}
	for _, pkg := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(pkg, module+"/")
		if !ok {
			continue
		}
		exists[rel] = true
		_, test := testOnly[rel]
		_, shipped := shippedDespiteName[rel]
		if strings.Contains(path.Base(rel), "test") && !test && !shipped {
			t.Errorf("package %s is not classified: add it to testOnly (test code, never linked into mlcanary) or shippedDespiteName", pkg)
		}
	}
	for _, list := range []map[string]string{testOnly, shippedDespiteName} {
		for rel := range list {
			if !exists[rel] {
				t.Errorf("%s/%s is listed but is no package of the module", module, rel)
			}
		}
	}
}
