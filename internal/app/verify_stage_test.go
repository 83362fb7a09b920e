package app

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// verifyStep is one stage run with verification: the stage, the split the loopback gateway really
// applies (the mockups "New Model A" green and "New Model B" blue behind gatewaysim), and what
// the run must report.
type verifyStep struct {
	name, stage string
	actual      summary.Weights
	dryRun      bool // then the gateway is a closed port: a verification that ran would fail
	ok          bool
	weights     [2]string // green, blue as the outputs say them
	summaryHas  []string
	completeHas string
}

// verifySteps moves a namespace left at Blue_30 to Blue_50 through a gateway that honours the live
// routes, then to Blue_80 through one that sends 90/10 whatever the routes say: the second stage
// holds but fails its verification. A dry run is not verified at all. A tolerance of 20 points keeps each verification to a few hundred requests.
var verifySteps = []verifyStep{
	{"Blue_50 through a gateway that honours it", "Blue_50", summary.Weights{Green: 50, Blue: 50}, false, true, [2]string{"50", "50"},
		[]string{"**50%**", "### mlcanary verify: ✅ traffic matches the live routes", `"New Model B" _(learned)_`}, "Blue_50 holds: green 50%, blue 50%"},
	{"Blue_80 through a gateway that sends 90/10", "Blue_80", summary.Weights{Green: 90, Blue: 10}, false, false, [2]string{"20", "80"},
		[]string{"**80%**", "**20%**", "### mlcanary verify: ❌ traffic does not match the live routes", `default route: "New Model A" is `},
		`Blue_80 holds, but traffic through http://127.0.0.1:`},
	{"a dry run of Blue_90 is not verified", "Blue_90", summary.Weights{}, true, true, [2]string{"10", "90"},
		[]string{"**90%**", "### mlcanary verify: skipped\n\ndry run: the stage changed nothing, so traffic was not verified"}, "Blue_90 holds"},
}

// target is the gateway a step verifies through, and the verified output it must end with.
func (s verifyStep) target(t *testing.T, routes []summary.HeaderRoute) (url, verified string) {
	switch {
	case s.dryRun:
		return strings.TrimSuffix(closedURL(t), "/score"), ""
	case s.ok:
		return gateway(t, s.actual, routes, 0), "true"
	}
	return gateway(t, s.actual, routes, 0), "false"
}

// TestTaskVerifiesAfterStage runs the task through its launcher as the agent does, with
// verifyGateway set, against a real API server and a loopback gateway: a stage whose traffic
// matches passes with verified=true; a stage whose gateway splits wrongly sets the stage's outputs,
// then fails the task with verified=false and a summary that shows both the split and the report.
func TestTaskVerifiesAfterStage(t *testing.T) {
	task := launcher(t)
	e := shared.Env(t)
	e.StartController(t)
	org := azdotest.Start(t)
	const ns = "abtest-verify"
	live := stageBlue30(t, e, ns)
	kubeconfig, err := os.ReadFile(e.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	held := []string{org.Token, clientKeyOf(t, kubeconfig)}
	for _, s := range verifySteps {
		t.Run(s.name, func(t *testing.T) {
			env := jobEnv(t, org)
			gw, wantVerified := s.target(t, live.Routes)
			for k, v := range map[string]string{
				"INPUT_KUBERNETESSERVICECONNECTION": k8sConn, "INPUT_STAGE": s.stage, "INPUT_NAMESPACE": ns, "INPUT_TIMEOUT": "60",
				"INPUT_VERIFYGATEWAY": gw, "INPUT_VERIFYTOLERANCE": "20", "INPUT_DRYRUN": fmt.Sprint(s.dryRun),
				"ENDPOINT_URL_" + k8sConn: e.Config.Host, "ENDPOINT_DATA_" + k8sConn + "_AUTHORIZATIONTYPE": "Kubeconfig",
				"ENDPOINT_AUTH_PARAMETER_" + k8sConn + "_KUBECONFIG": string(kubeconfig),
			} {
				env[k] = v
			}
			r := runTask(t, task, env)
			outs := r.outputs()
			wantCode, wantResult := 1, "Failed"
			if s.ok {
				wantCode, wantResult = 0, "Succeeded"
			}
			if r.code != wantCode || outs["verified"] != wantVerified {
				t.Errorf("exit %d (want %d), verified %q (want %q)\n%s%s", r.code, wantCode, outs["verified"], wantVerified, r.stdout, r.stderr)
			}
			if outs["stage"] != s.stage || outs["greenWeight"] != s.weights[0] || outs["blueWeight"] != s.weights[1] {
				t.Errorf("stage outputs %v, want %s at %v", outs, s.stage, s.weights)
			}
			setStage, verifying := strings.Index(r.stdout, "variable=stage;"), strings.Index(r.stdout, "mlcanary: verifying traffic through http://127.0.0.1:")
			if s.dryRun != (verifying < 0) || setStage < 0 || verifying < setStage && !s.dryRun {
				t.Errorf("the stage's outputs must be set before verifying (at %d, verifying at %d):\n%s", setStage, verifying, r.stdout)
			}
			done, issues := r.find("task.complete"), r.find("task.logissue")
			if len(done) != 1 || done[0].props["result"] != wantResult || !strings.Contains(done[0].data, s.completeHas) {
				t.Errorf("task.complete %+v, want one %s containing %q", done, wantResult, s.completeHas)
			}
			if s.ok != (len(issues) == 0) || !s.ok && (issues[0].props["type"] != "error" || issues[0].data != done[0].data) {
				t.Errorf("issues %+v; want one error with the completion's reason only when verification fails", issues)
			}
			att := r.find("task.addattachment")
			if len(att) != 1 {
				t.Fatalf("summary attachments %+v, want one", att)
			}
			md, err := os.ReadFile(att[0].data)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range append([]string{"Blue_", ns}, s.summaryHas...) {
				if !strings.Contains(string(md), want) {
					t.Errorf("summary lacks %q:\n%s", want, md)
				}
			}
			if strings.Index(string(md), "mlcanary verify") < strings.Index(string(md), "**"+s.weights[1]+"%**") {
				t.Errorf("the verify report is not after the stage's summary:\n%s", md)
			}
			r.checkSecrets(t, held, held, att[0].data)
		})
	}
}

// TestGitHubActionVerifiesAfterStage runs the GitHub front end with the step environment injected
// (INPUT_*, temp GITHUB_OUTPUT and GITHUB_STEP_SUMMARY) through the same two steps.
func TestGitHubActionVerifiesAfterStage(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	const ns = "gh-verify"
	live := stageBlue30(t, e, ns)
	kubeconfig, err := os.ReadFile(e.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range verifySteps {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			gw, wantVerified := s.target(t, live.Routes)
			env := map[string]string{
				"GITHUB_ACTIONS": "true", "HOME": dir, "INPUT_STAGE": s.stage, "INPUT_NAMESPACE": ns,
				"INPUT_KUBECONFIG": string(kubeconfig), "INPUT_TIMEOUT": "60",
				"INPUT_VERIFY_GATEWAY": gw, "INPUT_VERIFY_TOLERANCE": "20", "INPUT_DRY_RUN": fmt.Sprint(s.dryRun),
				"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
			}
			var out, errOut bytes.Buffer
			code := Run(t.Context(), Streams{Out: &out, Err: &errOut}, []string{"github-action"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			outs := githubOutputs(t, env["GITHUB_OUTPUT"])
			wantCode := ExitFailed
			if s.ok {
				wantCode = ExitOK
			}
			if code != wantCode || outs["verified"] != wantVerified {
				t.Errorf("exit %d (want %d), verified %q (want %q)\n%s", code, wantCode, outs["verified"], wantVerified, out.String())
			}
			if outs["stage"] != s.stage || outs["green-weight"] != s.weights[0] || outs["blue-weight"] != s.weights[1] {
				t.Errorf("stage outputs %v, want %s at %v", outs, s.stage, s.weights)
			}
			annotations := strings.Count(out.String(), "::error")
			if wantAnn := "::error title=mlcanary::" + s.completeHas; s.ok && annotations != 0 || !s.ok && (annotations != 1 || !strings.Contains(out.String(), wantAnn)) {
				t.Errorf("%d error annotations, want one containing %q only when verification fails:\n%s", annotations, wantAnn, out.String())
			}
			sum, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range append([]string{"pie showData title Traffic after " + s.stage}, s.summaryHas...) {
				if !strings.Contains(string(sum), want) {
					t.Errorf("step summary lacks %q:\n%s", want, sum)
				}
			}
			checkMasked(t, out.String(), string(sum), clientKeyOf(t, kubeconfig))
		})
	}
}

// checkMasked fails unless the step's stdout masks secret before any other line and neither the
// rest of stdout nor the step summary shows it.
func checkMasked(t *testing.T, stdout, stepSummary, secret string) {
	t.Helper()
	lines := strings.Split(stdout, "\n")
	i := 0
	masked := false
	for ; i < len(lines) && strings.HasPrefix(lines[i], "::add-mask::"); i++ {
		masked = masked || lines[i] == "::add-mask::"+secret
	}
	if !masked {
		t.Errorf("the client key was not masked before the first other line:\n%s", stdout)
	}
	if strings.Contains(strings.Join(lines[i:], "\n"), secret) || strings.Contains(stepSummary, secret) {
		t.Error("the client key reached the log or the step summary")
	}
}

// clientKeyOf is the base64 client key of the (only) user in kubeconfig, a secret the runs hold.
func clientKeyOf(t *testing.T, kubeconfig []byte) string {
	t.Helper()
	kc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range kc.AuthInfos {
		return base64.StdEncoding.EncodeToString(a.ClientKeyData)
	}
	t.Fatal("no user in the kubeconfig")
	return ""
}

// githubOutputs reads GITHUB_OUTPUT's name<<DELIM / value / DELIM records.
func githubOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i+2 < len(lines); i += 3 {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok || lines[i+2] != delim {
			t.Fatalf("malformed GITHUB_OUTPUT record at line %d: %q", i+1, lines[i:i+3])
		}
		out[name] = lines[i+1]
	}
	return out
}
