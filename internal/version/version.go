// Package version reports which build of mlcanary is running, so a pipeline log or a summary
// can be traced back to a release.
package version

import "runtime/debug"

// Version is stamped at build time with -ldflags "-X github.com/mlcanary/mlcanary/internal/version.Version=v1.2.3".
var Version = ""

// Commit is stamped at build time with the git commit.
var Commit = ""

// String returns the stamped version, else the module version `go install` recorded, else "dev".
func String() string {
	v := Version
	if v == "" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	if v == "" {
		v = "dev"
	}
	if Commit != "" {
		v += " (" + Commit + ")"
	}
	return v
}
