package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// vso is one logging command as the agent parses it.
type vso struct {
	name  string
	props map[string]string
	data  string
}

// parseVSO reads stdout as the agent does: a line holding "##vso[" is one command.
func parseVSO(out string) []vso {
	cmds, _ := azdotest.ParseCommands(out) // a malformed line ends the list; the assertions then fail
	out2 := make([]vso, 0, len(cmds))
	for _, c := range cmds {
		out2 = append(out2, vso{name: c.Name, props: c.Props, data: c.Data})
	}
	return out2
}

var (
	launcherOnce sync.Once
	launcherDir  string
	launcherErr  error
)

// launcher stages the task folder as the .vsix ships it: task.json, index.js and the host's binary
// packed by task/pack.js under bin/, built from this tree.
func launcher(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds mlcanary and runs the task's launcher with node: skipped with -short; `make test` runs it")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is required to run the task's launcher as the agent does: ", err)
	}
	launcherOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mlcanary-task-")
		if err != nil {
			launcherErr = err
			return
		}
		launcherDir = dir
		arch := map[string]string{"amd64": "amd64", "arm64": "arm64"}[runtime.GOARCH]
		name := fmt.Sprintf("mlcanary-%s-%s", runtime.GOOS, arch)
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		bin := filepath.Join(dir, "build", name)
		steps := [][]string{
			{"go", "build", "-trimpath", "-o", bin, "github.com/mlcanary/mlcanary/cmd/mlcanary"},
			// Pack as scripts/vsix.sh does (fast quality): the launcher unpacks from the bundle.
			{"node", "../../task/pack.js", filepath.Join(dir, "task", "bin"), "1", bin},
			{"cp", "../../task/index.js", "../../task/task.json", filepath.Join(dir, "task")},
		}
		for _, s := range steps {
			if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
				launcherErr = fmt.Errorf("%s: %w\n%s", strings.Join(s[:2], " "), err, out)
				return
			}
		}
	})
	if launcherErr != nil {
		t.Fatal(launcherErr)
	}
	return filepath.Join(launcherDir, "task")
}

// agentRun is one task run as the agent starts it: node <task>/index.js with the job's environment.
type agentRun struct {
	stdout, stderr string
	code           int
	cmds           []vso
}

func runTask(t *testing.T, task string, env map[string]string) agentRun {
	t.Helper()
	return runTaskArgs(t, task, env)
}

// runTaskArgs runs the launcher with arguments, which it passes on to the binary.
func runTaskArgs(t *testing.T, task string, env map[string]string, args ...string) agentRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join(task, "index.js")}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := agentRun{stdout: stdout.String(), stderr: stderr.String(), cmds: parseVSO(stdout.String())}
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r agentRun) find(name string) []vso {
	var out []vso
	for _, c := range r.cmds {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

func (r agentRun) outputs() map[string]string {
	out := map[string]string{}
	for _, c := range r.find("task.setvariable") {
		if c.props["isoutput"] == "true" {
			out[c.props["variable"]] = c.data
		}
	}
	return out
}

// checkSecrets fails when a secret appears anywhere but in a task.setsecret command, when a line
// is printed before the secrets are masked, or when a secret the run held (held) was not masked.
func (r agentRun) checkSecrets(t *testing.T, secrets, held []string, files ...string) {
	t.Helper()
	lines := strings.Split(r.stdout, "\n")
	masking := true
	for i, line := range lines {
		if strings.HasPrefix(line, "##vso[task.setsecret]") {
			if !masking {
				t.Errorf("stdout line %d masks a secret after other output", i)
			}
			continue
		}
		masking = false
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("stdout line %d reveals a secret: %q", i, line)
			}
		}
	}
	texts := map[string]string{"stderr": r.stderr}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		texts[f] = string(data)
	}
	for where, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s reveals a secret", where)
			}
		}
	}
	masked := map[string]bool{}
	for _, c := range r.find("task.setsecret") {
		masked[c.data] = true
	}
	for _, s := range held {
		if !masked[s] {
			t.Errorf("secret %.6s… was never masked", s)
		}
	}
}

// pipelineToken creates namespace ns and a ServiceAccount allowed everything in it only, and returns
// a real token for it from the TokenRequest API.
func pipelineToken(t *testing.T, e *testenv.Env, ns string) string {
	t.Helper()
	if err := e.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	token, err := e.ServiceAccountToken(context.Background(), ns, "pipeline", true)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// jobEnv is what the agent sets for every task: TF_BUILD, the system connection, the run's ids,
// the temp and tools directories; SSL_CERT_FILE makes the binary trust the local Azure DevOps server.
func jobEnv(t *testing.T, org *azdotest.Server, trust ...*x509.Certificate) map[string]string {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	var roots []byte
	for _, c := range append(trust, org.Certificate()) {
		roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(ca, roots, 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"TF_BUILD":                                 "True",
		"AGENT_TEMPDIRECTORY":                      t.TempDir(),
		"AGENT_TOOLSDIRECTORY":                     t.TempDir(),
		"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI":       org.URL + "/",
		"SYSTEM_TEAMPROJECTID":                     org.Project,
		"SYSTEM_TEAMPROJECT":                       "ML",
		"SYSTEM_HOSTTYPE":                          "build",
		"BUILD_BUILDID":                            org.BuildID,
		"ENDPOINT_URL_SYSTEMVSSCONNECTION":         org.URL + "/",
		"ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION": "OAuth",
		"ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN": org.Token,
		"SSL_CERT_FILE": ca,
	}
}
