package github

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// installer runs action.yml's `bin` step (how the binary reaches the runner) with bash, the way the
// runner does, in a fake action checkout with a release mirror on disk (MLCANARY_DOWNLOAD_URL).
type installer struct {
	dir, action, mirror, toolCache string
	output, path                   string
}

func newInstaller(t *testing.T) *installer {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed; the action's install step needs it (hosted runners have it on every OS)")
	}
	d := t.TempDir()
	in := &installer{dir: d, action: filepath.Join(d, "action"), mirror: filepath.Join(d, "mirror"),
		toolCache: filepath.Join(d, "toolcache"), output: filepath.Join(d, "output"), path: filepath.Join(d, "path")}
	for _, p := range []string{in.action, in.mirror, in.toolCache} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// release publishes assets in the mirror and pins their sums in the action checkout; sums maps an
// asset to a pinned sum that overrides the real one (to simulate tampering).
func (in *installer) release(t *testing.T, version string, assets map[string]string, sums map[string]string) {
	t.Helper()
	var lines []string
	for name, body := range assets {
		dir := filepath.Join(in.mirror, version)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(body))
		pinned := hex.EncodeToString(sum[:])
		if s, ok := sums[name]; ok {
			pinned = s
		}
		lines = append(lines, pinned+"  "+name)
	}
	if err := os.WriteFile(filepath.Join(in.action, "action-checksums.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run executes the step for a runner OS and architecture; it returns stdout and whether it succeeded.
func (in *installer) run(t *testing.T, runnerOS, arch string, extraEnv ...string) (string, bool) {
	t.Helper()
	var script string
	for _, s := range readActionYAML(t).Runs.Steps {
		if s.ID == "bin" {
			script = s.Run
		}
	}
	if script == "" {
		t.Fatal("action.yml has no step with id bin")
	}
	file := filepath.Join(in.dir, "bin.sh")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", file)
	cmd.Env = append(os.Environ(), "RUNNER_OS="+runnerOS, "RUNNER_ARCH="+arch, "ACTION_PATH="+in.action,
		"RUNNER_TOOL_CACHE="+in.toolCache, "RUNNER_TEMP="+in.dir, "GITHUB_OUTPUT="+in.output,
		"GITHUB_PATH="+in.path, "MLCANARY_DOWNLOAD_URL=file://"+in.mirror)
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func TestInstallReleaseAsset(t *testing.T) {
	assets := map[string]string{
		"mlcanary_1.2.3_linux_amd64":       "linux-amd64 binary",
		"mlcanary_1.2.3_linux_arm64":       "linux-arm64 binary",
		"mlcanary_1.2.3_darwin_arm64":      "darwin-arm64 binary",
		"mlcanary_1.2.3_windows_amd64.exe": "windows-amd64 binary",
	}
	tests := []struct{ os, arch, want, file string }{
		{"Linux", "X64", "linux-amd64 binary", "v1.2.3/amd64/mlcanary"},
		{"Linux", "ARM64", "linux-arm64 binary", "v1.2.3/arm64/mlcanary"},
		{"macOS", "arm64", "darwin-arm64 binary", "v1.2.3/arm64/mlcanary"}, // act reports arm64 in lower case
		{"Windows", "X64", "windows-amd64 binary", "v1.2.3/amd64/mlcanary.exe"},
	}
	for _, tt := range tests {
		t.Run(tt.os+"/"+tt.arch, func(t *testing.T) {
			in := newInstaller(t)
			in.release(t, "v1.2.3", assets, nil)
			out, ok := in.run(t, tt.os, tt.arch)
			if !ok {
				t.Fatalf("install failed:\n%s", out)
			}
			bin := filepath.Join(in.toolCache, "mlcanary", tt.file)
			if got := readFile(t, in.output); got != "path="+bin+"\n" {
				t.Errorf("GITHUB_OUTPUT = %q, want path=%s", got, bin)
			}
			if got := readFile(t, in.path); got != filepath.Dir(bin)+"\n" {
				t.Errorf("GITHUB_PATH = %q, want %s", got, filepath.Dir(bin))
			}
			if got := readFile(t, bin); got != tt.want {
				t.Errorf("installed %q, want %q", got, tt.want)
			}
			if st, err := os.Stat(bin); err != nil || st.Mode()&0o111 == 0 {
				t.Errorf("installed binary not executable: %v %v", st, err)
			}
		})
	}
}

func TestInstallRefuses(t *testing.T) {
	tests := []struct {
		name, os, arch string
		sums           map[string]string
		noGo           bool
		want           string
	}{
		{name: "tampered asset", os: "Linux", arch: "X64",
			sums: map[string]string{"mlcanary_1.2.3_linux_amd64": strings.Repeat("0", 64)},
			want: "::error title=mlcanary::checksum mismatch for mlcanary_1.2.3_linux_amd64"},
		{name: "no asset for the platform", os: "macOS", arch: "X64",
			want: "::error title=mlcanary::no release asset for darwin/amd64"},
		{name: "32-bit runner", os: "Linux", arch: "ARM",
			want: "::error title=mlcanary::unsupported runner architecture ARM"},
		{name: "source ref without Go", os: "Linux", arch: "X64", noGo: true,
			want: "::error title=mlcanary::this ref has no release binaries and the runner has no Go"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInstaller(t)
			var env []string
			if tt.noGo {
				env = append(env, "PATH="+pathWithoutGo(t))
			} else {
				in.release(t, "v1.2.3", map[string]string{"mlcanary_1.2.3_linux_amd64": "linux-amd64 binary"}, tt.sums)
			}
			out, ok := in.run(t, tt.os, tt.arch, env...)
			if ok || !strings.Contains(out, tt.want) {
				t.Errorf("install succeeded=%v, want a failure with %q; output:\n%s", ok, tt.want, out)
			}
			if got := readFile(t, in.output); got != "" {
				t.Errorf("a refused install set outputs: %q", got)
			}
			matches, _ := filepath.Glob(filepath.Join(in.toolCache, "mlcanary", "*", "*", "mlcanary*"))
			if len(matches) > 0 {
				t.Errorf("a refused binary was left in the tool cache: %v", matches)
			}
		})
	}
}

// pathWithoutGo is a PATH with bash, awk and curl but no go, as on a runner without Go.
func pathWithoutGo(t *testing.T) string {
	t.Helper()
	var keep []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			continue
		}
		keep = append(keep, dir)
	}
	p := strings.Join(keep, string(filepath.ListSeparator))
	for _, tool := range []string{"bash", "awk", "dirname"} {
		if !onPath(tool, keep) {
			t.Skipf("%s lives next to go on this machine; cannot simulate a runner without Go", tool)
		}
	}
	return p
}

func onPath(tool string, dirs []string) bool {
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, tool)); err == nil {
			return true
		}
	}
	return false
}
