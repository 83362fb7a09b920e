package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// packedEntry reads the index entry of the host's binary from the staged task.
func packedEntry(t *testing.T, task string) (name, sum string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(task, "bin", "mlcanary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Binaries map[string]struct{ SHA256 string } `json:"binaries"`
	}
	if err := json.Unmarshal(data, &index); err != nil || len(index.Binaries) != 1 {
		t.Fatalf("index %s: %v", data, err)
	}
	for name, e := range index.Binaries {
		return name, e.SHA256
	}
	return "", ""
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// sameSizeScript is a shell script exactly size bytes long that prints "pwned".
func sameSizeScript(size int) []byte {
	b := []byte("#!/bin/sh\necho pwned\nexit 0\n")
	line := "#" + strings.Repeat("x", 998) + "\n"
	for len(b)+len(line) <= size {
		b = append(b, line...)
	}
	return append(b, strings.Repeat("#", size-len(b))...)
}

// TestLauncherRefreshesTamperedCache replaces the cached binary with another file of the same size
// (the tools directory outlives jobs on self-hosted agents): the launcher must notice by its hash,
// unpack the real binary again and run that.
func TestLauncherRefreshesTamperedCache(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the tampered file is a shell script")
	}
	task := launcher(t)
	name, sum := packedEntry(t, task)
	env := map[string]string{"AGENT_TOOLSDIRECTORY": t.TempDir()}
	if r := runTaskArgs(t, task, env, "version"); r.code != 0 {
		t.Fatalf("first run: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	cached := filepath.Join(env["AGENT_TOOLSDIRECTORY"], "mlcanary", sum[:16], name)
	st, err := os.Stat(cached)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cached, sameSizeScript(int(st.Size())), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runTaskArgs(t, task, env, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "mlcanary ") || strings.Contains(r.stdout, "pwned") {
		t.Errorf("tampered cache: exit %d, stdout %q, stderr %q; want the real binary's version", r.code, r.stdout, r.stderr)
	}
	if got := fileSHA256(t, cached); got != sum {
		t.Errorf("cached binary has SHA-256 %s after the run, want %s", got, sum)
	}
}

// renamePreload makes fs.renameSync fail with EPERM, as Windows does when a parallel job runs the
// target .exe; with copyFirst the parallel job's intact binary is already in place.
func renamePreload(t *testing.T, copyFirst bool) string {
	script := `const fs = require("fs");
fs.renameSync = function (from, to) {
  if (` + map[bool]string{true: "true", false: "false"}[copyFirst] + `) fs.copyFileSync(from, to);
  const err = new Error("EPERM: operation not permitted, rename"); err.code = "EPERM"; throw err;
};`
	p := filepath.Join(t.TempDir(), "rename.js")
	if err := os.WriteFile(p, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLauncherRenameRace: when the unpacked file cannot be renamed onto the target, an intact target
// is used, and anything else fails the task without leaving the temporary file behind.
func TestLauncherRenameRace(t *testing.T) {
	task := launcher(t)
	for _, copyFirst := range []bool{true, false} {
		tools := t.TempDir()
		r := runTaskArgs(t, task, map[string]string{"AGENT_TOOLSDIRECTORY": tools,
			"NODE_OPTIONS": "--require " + renamePreload(t, copyFirst)}, "version")
		if copyFirst && (r.code != 0 || !strings.HasPrefix(r.stdout, "mlcanary ")) {
			t.Errorf("intact target after EPERM: exit %d, %q %q; want the version", r.code, r.stdout, r.stderr)
		}
		if !copyFirst && (r.code != 1 || !strings.Contains(r.stdout, "EPERM") || len(r.find("task.complete")) != 1) {
			t.Errorf("no target after EPERM: exit %d, %q; want a failed task naming EPERM", r.code, r.stdout)
		}
		if tmp, _ := filepath.Glob(filepath.Join(tools, "mlcanary", "*", "*.tmp")); len(tmp) != 0 {
			t.Errorf("temporary files left: %v", tmp)
		}
	}
}

// TestLauncherPlatformBinaries pins which packed binary each supported agent platform runs: node is
// made to report another platform, and the launcher names the binary it looks for (the staged task
// packs only the host's, so any other is reported missing before anything runs).
func TestLauncherPlatformBinaries(t *testing.T) {
	task := launcher(t)
	host, _ := packedEntry(t, task)
	for _, tt := range []struct{ platform, arch, binary string }{
		{"darwin", "arm64", "mlcanary-darwin-arm64"},
		{"win32", "x64", "mlcanary-windows-amd64.exe"},
		{"linux", "arm64", "mlcanary-linux-arm64"},
		{"linux", "x64", "mlcanary-linux-amd64"},
	} {
		preload := filepath.Join(t.TempDir(), "platform.js")
		script := `Object.defineProperty(process, "platform", { value: "` + tt.platform + `" });
Object.defineProperty(process, "arch", { value: "` + tt.arch + `" });`
		if err := os.WriteFile(preload, []byte(script), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runTaskArgs(t, task, map[string]string{"AGENT_TOOLSDIRECTORY": t.TempDir(), "NODE_OPTIONS": "--require " + preload}, "version")
		if tt.binary == host {
			if r.code != 0 || !strings.HasPrefix(r.stdout, "mlcanary ") {
				t.Errorf("%s/%s (the host): exit %d, %q %q", tt.platform, tt.arch, r.code, r.stdout, r.stderr)
			}
			continue
		}
		if want := "binary " + tt.binary + " is missing"; r.code != 1 || !strings.Contains(r.stdout, want) {
			t.Errorf("%s/%s: exit %d, stdout %q; want it to look for %s", tt.platform, tt.arch, r.code, r.stdout, tt.binary)
		}
	}
}
