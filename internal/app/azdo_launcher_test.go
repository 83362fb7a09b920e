package app

import (
	"bufio"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
)

// TestLauncherUnsupportedPlatform checks an agent without a binary gets an error issue and a failed
// result from the launcher itself.
func TestLauncherUnsupportedPlatform(t *testing.T) {
	task := launcher(t)
	for _, arch := range []string{"ia32", "s390x"} {
		r := runTask(t, task, map[string]string{"NODE_OPTIONS": "--require " + writePreload(t, arch)})
		if r.code != 1 {
			t.Errorf("%s: exit code %d, want 1", arch, r.code)
		}
		issues, done := r.find("task.logissue"), r.find("task.complete")
		if len(issues) != 1 || !strings.Contains(issues[0].data, "does not support") || len(done) != 1 || done[0].props["result"] != "Failed" {
			t.Errorf("%s: commands %+v", arch, r.cmds)
		}
	}
}

// writePreload writes a script that makes node report another CPU architecture.
func writePreload(t *testing.T, arch string) string {
	p := t.TempDir() + "/arch.js"
	if err := os.WriteFile(p, []byte(`Object.defineProperty(process, "arch", { value: "`+arch+`" });`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLauncherUnpacksOnce checks the packed binary is unpacked into the agent's tools directory on
// first use, executable, reused afterwards, and refused when it does not match its SHA-256.
func TestLauncherUnpacksOnce(t *testing.T) {
	task := launcher(t)
	tools := t.TempDir()
	env := map[string]string{"AGENT_TOOLSDIRECTORY": tools}
	first := runTaskArgs(t, task, env, "version")
	if first.code != 0 || !strings.HasPrefix(first.stdout, "mlcanary ") {
		t.Fatalf("version through the launcher: exit %d, %q %q", first.code, first.stdout, first.stderr)
	}
	unpacked, _ := filepath.Glob(filepath.Join(tools, "mlcanary", "*", "mlcanary-*"))
	if len(unpacked) != 1 {
		t.Fatalf("unpacked %v, want one binary", unpacked)
	}
	st, err := os.Stat(unpacked[0])
	if err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Fatalf("unpacked binary %v not executable (%v)", st, err)
	}
	if again := runTaskArgs(t, task, env, "version"); again.code != 0 {
		t.Fatalf("second run exit %d", again.code)
	}
	if st2, _ := os.Stat(unpacked[0]); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the binary was unpacked again instead of reused")
	}

	// A package whose index does not match its archive must not run anything.
	tampered := t.TempDir()
	if out, err := exec.Command("cp", "-r", task+"/.", tampered).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	idx := filepath.Join(tampered, "bin", "mlcanary.json")
	data, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	data = regexp.MustCompile(`"sha256": "[0-9a-f]{8}`).ReplaceAll(data, []byte(`"sha256": "00000000`))
	if err := os.WriteFile(idx, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := t.TempDir()
	r := runTaskArgs(t, tampered, map[string]string{"AGENT_TOOLSDIRECTORY": fresh}, "version")
	if r.code != 1 || len(r.find("task.complete")) != 1 || !strings.Contains(r.stdout, "SHA-256") {
		t.Errorf("tampered package: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(fresh, "mlcanary", "*", "*")); len(left) != 0 {
		t.Errorf("a tampered binary was left in the cache: %v", left)
	}
}

// TestLauncherForwardsSIGTERM cancels a run that waits for a rollout: the agent signals node, the
// launcher passes the signal on, and mlcanary stops waiting, reports the failure and exits.
func TestLauncherForwardsSIGTERM(t *testing.T) {
	task := launcher(t)
	e := shared.Env(t)
	ctrl := e.StartController(t)
	org := azdotest.Start(t)
	const ns = "abtest-cancel"
	token := pipelineToken(t, e, ns)
	ctrl.Hold(ns, "model-blue")
	env := jobEnv(t, org)
	for k, v := range map[string]string{
		"INPUT_KUBERNETESSERVICECONNECTION": k8sConn, "INPUT_STAGE": "Blue_0", "INPUT_NAMESPACE": ns,
		"INPUT_IMAGE": "myacr.azurecr.io/model:1", "INPUT_TIMEOUT": "5m",
		"ENDPOINT_URL_" + k8sConn: e.Config.Host, "ENDPOINT_DATA_" + k8sConn + "_AUTHORIZATIONTYPE": "ServiceAccount",
		"ENDPOINT_AUTH_PARAMETER_" + k8sConn + "_APITOKEN":                  base64.StdEncoding.EncodeToString([]byte(token)),
		"ENDPOINT_AUTH_PARAMETER_" + k8sConn + "_SERVICEACCOUNTCERTIFICATE": base64.StdEncoding.EncodeToString(e.Config.CAData),
	} {
		env[k] = v
	}
	cmd := exec.Command("node", filepath.Join(task, "index.js"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "waiting up to") {
			break
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	if exit := (*exec.ExitError)(nil); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit %v, want code 1 from mlcanary", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s to stop after SIGTERM", d)
	}
	if len(org.Tags()) != 0 {
		t.Errorf("a cancelled run tagged the build: %v", org.Tags())
	}
	done := parseVSO(out.String())
	if last := done[len(done)-1]; last.name != "task.complete" || last.props["result"] != "Failed" {
		t.Errorf("last command %+v, want task.complete Failed\n%s", last, out.String())
	}
}
