package github

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlcanary/mlcanary/internal/secret"
)

// actEntry is one line of `act --json` output.
type actEntry struct {
	Msg       string   `json:"msg"`
	Command   string   `json:"command"`
	Arg       string   `json:"arg"`
	Content   string   `json:"content"`
	Raw       string   `json:"raw"`
	RawOutput bool     `json:"raw_output"`
	StepID    []string `json:"stepID"`
	JobResult string   `json:"jobResult"`
}

// actRun is a finished act run: its parsed log and how long it took.
type actRun struct {
	entries []actEntry
	took    time.Duration
	err     error
}

// actBinary finds act (MLCANARY_ACT, else .cache/bin/act built from tools/act). It skips under
// -short, and otherwise only when act is missing and MLCANARY_REQUIRE_ACT is unset; CI builds act
// and sets it, so there it fails.
func actBinary(t *testing.T, root string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs workflows with act (built by `make tools`) against kube-apiserver: skipped with -short; `make test` runs it")
	}
	bin := os.Getenv("MLCANARY_ACT")
	if bin == "" {
		bin = filepath.Join(root, ".cache", "bin", "act")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("act is not built (%v); build it with: cd tools/act && go build -o ../../.cache/bin/act github.com/nektos/act", err)
		if _, required := os.LookupEnv("MLCANARY_REQUIRE_ACT"); required {
			t.Fatal(msg + " (MLCANARY_REQUIRE_ACT is set)")
		}
		t.Skip(msg + "; set MLCANARY_REQUIRE_ACT=1 to make this a failure")
	}
	return bin
}

// runAct runs one workflow of testdata/act on the host, from the repository root as the checkout.
func runAct(t *testing.T, act, root, workflow string, secrets string, env ...string) actRun {
	t.Helper()
	secretFile := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(secretFile, []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"push", "--json", "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode",
		"--no-cache-server", "-C", root, "-W", filepath.Join(root, "internal", "github", "testdata", "act", workflow),
		"--secret-file", secretFile}
	for _, e := range env {
		args = append(args, "--env", e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Dir = root
	// Offline: the action builds mlcanary from this checkout with the module cache only.
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "KUBECONFIG=") }),
		"GOPROXY=off", "GOTOOLCHAIN=local")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	run := actRun{took: time.Since(start), err: err}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e actEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			run.entries = append(run.entries, e)
		}
	}
	t.Logf("act %s: %v in %s; stderr:\n%s", workflow, err, run.took.Round(time.Millisecond), stderr.String())
	if testing.Verbose() {
		t.Logf("act log:\n%s", run.log())
	}
	return run
}

// log is the run's log as a person reads it, for failure messages.
func (r actRun) log() string {
	var b strings.Builder
	for _, e := range r.entries {
		b.WriteString(strings.TrimRight(e.Msg, "\n") + "\n")
	}
	return b.String()
}

func (r actRun) jobResult() string {
	for _, e := range r.entries {
		if e.JobResult != "" {
			return e.JobResult
		}
	}
	return ""
}

// summary is the step summary act recorded for the top-level step id.
func (r actRun) summary(step string) string {
	for _, e := range r.entries {
		if e.Command == "summary" && slices.Equal(e.StepID, []string{step}) {
			return e.Content
		}
	}
	return ""
}

// output returns the value a step printed as "name=value".
func (r actRun) output(name string) string {
	for _, e := range r.entries {
		if v, ok := strings.CutPrefix(e.Msg, name+"="); ok && e.RawOutput {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (r actRun) annotations() []string {
	var out []string
	for _, e := range r.entries {
		if e.Command == "error" {
			out = append(out, e.Arg)
		}
	}
	return out
}

// assertNoSecret checks every printed field except act's own record of ::add-mask:: commands.
func assertNoSecret(t *testing.T, r actRun, secrets []string) {
	t.Helper()
	for _, e := range r.entries {
		if e.Command == "add-mask" {
			continue
		}
		for _, s := range secrets {
			for _, field := range []string{e.Msg, e.Content, e.Arg, e.Raw} {
				if strings.Contains(field, s) {
					t.Errorf("secret %.12q… appears in the act log: %q", s, e.Msg)
				}
			}
		}
	}
}

// kubeconfigSecrets lists the client key of the test kubeconfig, as written and line by line.
func kubeconfigSecrets(t *testing.T, path string) []string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range cfg.AuthInfos {
		if len(a.ClientKeyData) > 0 {
			out = append(out, base64.StdEncoding.EncodeToString(a.ClientKeyData))
			out = append(out, secret.Lines(string(a.ClientKeyData))...)
		}
		if a.Token != "" {
			out = append(out, a.Token)
		}
	}
	if len(out) == 0 {
		t.Fatal("the test kubeconfig has no secret to look for")
	}
	return out
}

// secretsFile renders a dotenv secret file act reads; newlines are escaped inside double quotes.
func secretsFile(t *testing.T, name, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(string(b))
	return name + `="` + v + "\"\n"
}
