package main

import "testing"

// TestBannedCatchesRepoTestServers (break-it review of issue #13): the repo's own test servers (a
// local Azure DevOps, a local Azure Resource Manager) are test code as much as internal/testenv and
// gatewaysim; the depcheck list once did not name them, so an accidental import into the shipped
// binary passed.
func TestBannedCatchesRepoTestServers(t *testing.T) {
	for _, pkg := range []string{
		"github.com/mlcanary/mlcanary/internal/azdo/azdotest",
		"github.com/mlcanary/mlcanary/internal/aks/akstest",
	} {
		if banned(pkg) == "" {
			t.Errorf("banned(%q) = \"\": a test server may be linked into the shipped binary", pkg)
		}
	}
}
