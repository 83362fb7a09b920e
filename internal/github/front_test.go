package github

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Secrets in the test kubeconfig; none may appear in stdout except inside ::add-mask:: commands.
const (
	testToken = "tok-3f9a1c5e7b2d4680aa55cc"
	testKey   = "MHcCAQEEIKfakeprivatekeymaterial0123456789abcdefABCDEF\noAoGCCqGSM49AwEHoUQDQgAEfakepublic0123456789"
)

func testKubeconfig(t *testing.T) []byte {
	t.Helper()
	c := clientcmdapi.NewConfig()
	c.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://cluster.example:6443"}
	c.AuthInfos["u"] = &clientcmdapi.AuthInfo{
		Token:         testToken,
		ClientKeyData: []byte("-----BEGIN EC PRIVATE KEY-----\n" + testKey + "\n-----END EC PRIVATE KEY-----\n"),
	}
	c.Contexts["x"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	c.CurrentContext = "x"
	b, err := clientcmd.Write(*c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runner is one simulated step: its environment, runner files and stdout.
type runner struct {
	env     map[string]string
	out     bytes.Buffer
	output  string
	summary string
}

func newRunner(t *testing.T, inputs map[string]string) *runner {
	dir := t.TempDir()
	r := &runner{
		env: map[string]string{
			"GITHUB_ACTIONS":      "true",
			"GITHUB_SERVER_URL":   "https://github.com",
			"GITHUB_REPOSITORY":   "acme/scoring",
			"GITHUB_RUN_ID":       "4242",
			"HOME":                dir, // no ~/.kube/config here
			"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
			"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
		},
		output:  filepath.Join(dir, "output"),
		summary: filepath.Join(dir, "summary.md"),
	}
	for k, v := range inputs {
		r.env[k] = v
	}
	return r
}

func (r *runner) run(stage frontend.StageFunc) error {
	return r.runVerify(stage, notAsked)
}

// runVerify runs the step as the github-action command does: the stage run with this front end,
// then Finish, the one place that prints its error.
func (r *runner) runVerify(stage frontend.StageFunc, check frontend.VerifyFunc) error {
	f := NewFront(func(k string) (string, bool) { v, ok := r.env[k]; return v, ok }, &r.out)
	err := frontend.Run(context.Background(), f, f, frontend.Engine{Stage: stage, Verify: check})
	f.Finish(err)
	return err
}

// notAsked is the verification of runs without verify-gateway: reaching it is an error.
func notAsked(context.Context, *rest.Config, config.Config, verify.Options) (*verify.Report, error) {
	return nil, errors.New("verification ran although verify-gateway was not set")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// parseOutputs reads GITHUB_OUTPUT's name<<DELIM / value / DELIM records.
func parseOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i+2 < len(lines); i += 3 {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok || lines[i+2] != delim {
			t.Fatalf("malformed GITHUB_OUTPUT record at line %d: %q", i+1, lines[i:i+3])
		}
		out[name] = lines[i+1]
	}
	return out
}

// assertMaskedFirst checks that stdout starts with the masks of every secret and shows no secret
// (nor any line of the private key) anywhere else.
func assertMaskedFirst(t *testing.T, stdout string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	masked := map[string]bool{}
	i := 0
	for ; i < len(lines) && strings.HasPrefix(lines[i], "::add-mask::"); i++ {
		masked[strings.TrimPrefix(lines[i], "::add-mask::")] = true
	}
	for _, s := range append([]string{testToken}, strings.Split(testKey, "\n")...) {
		if !masked[s] {
			t.Errorf("secret %q was not masked before the first other line; stdout:\n%s", s, stdout)
		}
		if rest := strings.Join(lines[i:], "\n"); strings.Contains(rest, s) {
			t.Errorf("secret %q printed after the masks:\n%s", s, rest)
		}
	}
}

func TestRunBlue50(t *testing.T) {
	r := newRunner(t, map[string]string{
		"INPUT_STAGE":      "blue_50",
		"INPUT_NAMESPACE":  "scoring",
		"INPUT_IMAGE-REPO": "acr.example.io/model", // the runner's native name, hyphen kept
		"INPUT_IMAGE_TAG":  "42",                   // action.yml's composite mapping
		"INPUT_DRY_RUN":    "true",
		"INPUT_TIMEOUT":    "90",
		"INPUT_KUBECONFIG": string(testKubeconfig(t)),
	})
	var got config.Config
	res := &summary.Result{Action: "stage", Stage: "Blue_50", Namespace: "scoring",
		Weights: summary.Weights{Green: 50, Blue: 50},
		Images:  summary.Images{Green: "acr.example.io/model:41", Blue: "acr.example.io/model:42"},
		Changed: true, DryRun: true, Changes: []string{"VirtualService scoring/mlmodel-virtualservice: 50/50"}}
	err := r.run(func(_ context.Context, rc *rest.Config, cfg config.Config, log engine.Logger) (*summary.Result, error) {
		got = cfg
		if rc.Host != "https://cluster.example:6443" || rc.BearerToken != testToken {
			t.Errorf("rest config from the kubeconfig input: host %q, token set %v", rc.Host, rc.BearerToken == testToken)
		}
		log("routing %d%% to blue", 50)
		return res, nil
	})
	if err != nil {
		t.Fatalf("Run: %v\nstdout:\n%s", err, r.out.String())
	}
	want := config.Default()
	want.Stage = config.Stage{Kind: config.KindBlueN, BlueWeight: 50}
	want.Namespace, want.Image, want.DryRun = "scoring", "acr.example.io/model:42", true
	want.Timeout, want.ChangedBy = 90*time.Second, "https://github.com/acme/scoring/actions/runs/4242"
	want.Lock.Holder = want.ChangedBy // the namespace's lock names the run too
	want.DetectGateway = true         // no gateway-selector input: the stage finds the ingress gateway
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	stdout := r.out.String()
	assertMaskedFirst(t, stdout)
	if !strings.Contains(stdout, "::group::mlcanary Blue_50 in namespace scoring\nrouting 50% to blue\n::endgroup::\n") {
		t.Errorf("engine log not inside a group:\n%s", stdout)
	}
	wantOut := map[string]string{"stage": "Blue_50", "green-weight": "50", "blue-weight": "50",
		"green-image": "acr.example.io/model:41", "blue-image": "acr.example.io/model:42", "changed": "true", "decision": "", "verified": "", "agreement": ""}
	if d := cmp.Diff(wantOut, parseOutputs(t, readFile(t, r.output))); d != "" {
		t.Errorf("GITHUB_OUTPUT (-want +got):\n%s", d)
	}
	sum := readFile(t, r.summary)
	if core := strings.TrimRight(summary.Markdown(res), "\n"); !strings.HasPrefix(sum, core) {
		t.Errorf("step summary does not start with the shared run summary:\n%s", sum)
	}
	for _, s := range []string{"```mermaid\npie showData title Traffic after Blue_50 (dry run)\n    \"green\" : 50\n    \"blue\" : 50\n```"} {
		if !strings.Contains(sum, s) {
			t.Errorf("step summary lacks %q:\n%s", s, sum)
		}
	}
	if strings.Contains(stdout, "::error") || strings.Contains(sum, "CAUTION") {
		t.Errorf("a successful run reported a failure:\n%s\n%s", stdout, sum)
	}
}

// A dry run asked to verify skips the verification (nothing changed) and says so in the summary;
// verified stays empty and the step succeeds.
func TestRunDryRunSkipsVerification(t *testing.T) {
	r := newRunner(t, map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_DRY_RUN": "true",
		"INPUT_VERIFY_GATEWAY": "127.0.0.1:1", "INPUT_KUBECONFIG": string(testKubeconfig(t))})
	res := &summary.Result{Action: "stage", Stage: "Blue_50", Weights: summary.Weights{Green: 50, Blue: 50}, DryRun: true}
	err := r.runVerify(func(context.Context, *rest.Config, config.Config, engine.Logger) (*summary.Result, error) {
		return res, nil
	}, notAsked)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, r.out.String())
	}
	if got := parseOutputs(t, readFile(t, r.output)); got["verified"] != "" || got["stage"] != "Blue_50" {
		t.Errorf("outputs %v, want stage Blue_50 and verified empty", got)
	}
	if sum := readFile(t, r.summary); !strings.Contains(sum, "### mlcanary verify: skipped") || !strings.Contains(sum, "dry run") {
		t.Errorf("step summary does not say verification was skipped for the dry run:\n%s", sum)
	}
}

// A bad verification input is bad input (exit 2) naming the action's input, before any stage runs.
func TestRunBadVerifyInput(t *testing.T) {
	r := newRunner(t, map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_VERIFY_GATEWAY": "20.1.2.3/score",
		"INPUT_KUBECONFIG": string(testKubeconfig(t))})
	err := r.runVerify(mustNotRun(t), notAsked)
	var in *config.InputError
	if !errors.As(err, &in) || in.Input != "verify-gateway" {
		t.Fatalf("err = %v, want an input error naming verify-gateway", err)
	}
	if !strings.Contains(r.out.String(), "::error title=mlcanary::invalid verify-gateway") {
		t.Errorf("no annotation naming the input:\n%s", r.out.String())
	}
}

// TestRunWarnings: a stage's warnings (the namespace's sidecar injection, an undetected gateway)
// are a ::warning:: annotation each and a Warning line in the step summary.
func TestRunWarnings(t *testing.T) {
	r := newRunner(t, map[string]string{"INPUT_STAGE": "Blue_0", "INPUT_IMAGE": "reg.io/m:2", "INPUT_KUBECONFIG": string(testKubeconfig(t))})
	w := "namespace abtesting has no sidecar-injection label: its pods get no Istio sidecar"
	res := &summary.Result{Action: "stage", Stage: "Blue_0", Weights: summary.Weights{Green: 100}, Warnings: []string{w}}
	if err := r.run(func(context.Context, *rest.Config, config.Config, engine.Logger) (*summary.Result, error) {
		return res, nil
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.out.String(), "::warning::"+w+"\n") || !strings.Contains(readFile(t, r.summary), "> **Warning:** "+w) {
		t.Errorf("stdout:\n%s\nsummary:\n%s", r.out.String(), readFile(t, r.summary))
	}
}
