package app

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// versionServer answers verify's GET /score with the version's fixed answer (how verify tells the
// versions apart) and compare's POSTed inputs with the version's model.
func versionServer(answer string, m *scoringmock.Model) *httptest.Server {
	fixed, model := scoringmock.Handler(scoringmock.Options{Answer: answer}), scoringmock.Handler(scoringmock.Options{Model: m})
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			model.ServeHTTP(w, r)
			return
		}
		fixed.ServeHTTP(w, r)
	}))
}

// TestGitHubActionComparesAfterStage runs the GitHub front end against a real API server and a
// loopback gateway honouring the live routes: Blue_50 holds, traffic is verified, then the
// compare-requests file is sent to both versions through the same gateway. A blue whose labels
// agree passes with agreement 1.0000; one whose labels flip on 5% of the requests fails the step
// (one error annotation), with verified=true, agreement=0.9500 and both reports in the summary.
func TestGitHubActionComparesAfterStage(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	const ns = "gh-compare"
	live := stageBlue30(t, e, ns)
	kubeconfig, err := os.ReadFile(e.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	file := requestsFile(t, 1000)
	for _, tc := range []struct {
		name          string
		blueThreshold float64
		code          int
		agreement     string
		summaryHas    string
		annotationHas string
	}{
		{"blue agrees", 0.5123, ExitOK, "1.0000", "### mlcanary compare: ✅ blue agrees with green", ""},
		{"blue's labels flip", 0.6123, ExitFailed, "0.9500", "### mlcanary compare: ❌ blue's answers differ",
			"::error title=mlcanary::Blue_50 holds, but blue's answers differ from green's: 50 of 1000 compared requests disagree"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			green, blue := versionServer("New Model A", linear(0.5123)), versionServer("New Model B", linear(tc.blueThreshold))
			gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": green.URL, "blue": blue.URL},
				Weights: summary.Weights{Green: 50, Blue: 50}, Routes: live.Routes, Seed: 3}))
			t.Cleanup(func() { gw.Close(); green.Close(); blue.Close() })
			dir := t.TempDir()
			env := map[string]string{
				"GITHUB_ACTIONS": "true", "HOME": dir, "INPUT_STAGE": "Blue_50", "INPUT_NAMESPACE": ns,
				"INPUT_KUBECONFIG": string(kubeconfig), "INPUT_TIMEOUT": "60",
				"INPUT_VERIFY_GATEWAY": gw.URL, "INPUT_VERIFY_TOLERANCE": "20", "INPUT_COMPARE_REQUESTS": file,
				"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
			}
			var out, errOut bytes.Buffer
			code := Run(t.Context(), Streams{Out: &out, Err: &errOut}, []string{"github-action"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			outs := githubOutputs(t, env["GITHUB_OUTPUT"])
			if code != tc.code || outs["verified"] != "true" || outs["agreement"] != tc.agreement || outs["stage"] != "Blue_50" {
				t.Errorf("exit %d (want %d), outputs %v (want verified true, agreement %s)\n%s", code, tc.code, outs, tc.agreement, out.String())
			}
			annotations := strings.Count(out.String(), "::error")
			if tc.annotationHas == "" && annotations != 0 || tc.annotationHas != "" && (annotations != 1 || !strings.Contains(out.String(), tc.annotationHas)) {
				t.Errorf("%d error annotations, want one containing %q only when blue differs:\n%s", annotations, tc.annotationHas, out.String())
			}
			if !strings.Contains(out.String(), "::group::mlcanary compare: 1000 requests from "+file+" through "+gw.URL) {
				t.Errorf("no log group for the comparison:\n%s", out.String())
			}
			sum, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
			if err != nil {
				t.Fatal(err)
			}
			verifyAt, compareAt := strings.Index(string(sum), "### mlcanary verify: ✅"), strings.Index(string(sum), tc.summaryHas)
			if verifyAt < 0 || compareAt < verifyAt {
				t.Errorf("step summary lacks the verify report followed by %q:\n%s", tc.summaryHas, sum)
			}
			checkMasked(t, out.String(), string(sum), clientKeyOf(t, kubeconfig))
		})
	}
}

// TestTaskComparesAfterStage runs the Azure DevOps task through its launcher as the agent does,
// with verifyGateway and compareRequests, against a real API server and a loopback gateway: blue's
// labels flip on 5% of the requests, so Blue_50 holds, traffic is verified, and the comparison
// fails the task with agreement=0.9500, one error issue, and the compare report after the verify
// report in the summary attachment.
func TestTaskComparesAfterStage(t *testing.T) {
	task := launcher(t)
	e := shared.Env(t)
	e.StartController(t)
	org := azdotest.Start(t)
	const ns = "abtest-compare"
	live := stageBlue30(t, e, ns)
	kubeconfig, err := os.ReadFile(e.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	green, blue := versionServer("New Model A", linear(0.5123)), versionServer("New Model B", linear(0.6123))
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": green.URL, "blue": blue.URL},
		Weights: summary.Weights{Green: 50, Blue: 50}, Routes: live.Routes, Seed: 3}))
	t.Cleanup(func() { gw.Close(); green.Close(); blue.Close() })
	env := jobEnv(t, org)
	for k, v := range map[string]string{
		"INPUT_KUBERNETESSERVICECONNECTION": k8sConn, "INPUT_STAGE": "Blue_50", "INPUT_NAMESPACE": ns, "INPUT_TIMEOUT": "60",
		"INPUT_VERIFYGATEWAY": gw.URL, "INPUT_VERIFYTOLERANCE": "20", "INPUT_COMPAREREQUESTS": requestsFile(t, 1000),
		"ENDPOINT_URL_" + k8sConn: e.Config.Host, "ENDPOINT_DATA_" + k8sConn + "_AUTHORIZATIONTYPE": "Kubeconfig",
		"ENDPOINT_AUTH_PARAMETER_" + k8sConn + "_KUBECONFIG": string(kubeconfig),
	} {
		env[k] = v
	}
	r := runTask(t, task, env)
	outs := r.outputs()
	if r.code != 1 || outs["verified"] != "true" || outs["agreement"] != "0.9500" || outs["blueWeight"] != "50" {
		t.Errorf("exit %d, outputs %v; want 1 with verified true, agreement 0.9500, blue at 50\n%s%s", r.code, outs, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "mlcanary: comparing blue's answers with green's on 1000 requests from ") {
		t.Errorf("the comparison is not announced:\n%s", r.stdout)
	}
	done, issues := r.find("task.complete"), r.find("task.logissue")
	const reason = "Blue_50 holds, but blue's answers differ from green's: 50 of 1000 compared requests disagree"
	if len(done) != 1 || done[0].props["result"] != "Failed" || !strings.HasPrefix(done[0].data, reason) ||
		len(issues) != 1 || issues[0].data != done[0].data {
		t.Errorf("task.complete %+v, issues %+v; want one failure and one error: %s", done, issues, reason)
	}
	att := r.find("task.addattachment")
	if len(att) != 1 {
		t.Fatalf("summary attachments %+v, want one", att)
	}
	md, err := os.ReadFile(att[0].data)
	if err != nil {
		t.Fatal(err)
	}
	verifyAt, compareAt := strings.Index(string(md), "### mlcanary verify: ✅"), strings.Index(string(md), "### mlcanary compare: ❌ blue's answers differ")
	if verifyAt < 0 || compareAt < verifyAt || !strings.Contains(string(md), `label: "positive" ≠ "negative"`) {
		t.Errorf("summary lacks the verify report followed by the compare report:\n%s", md)
	}
	held := []string{org.Token, clientKeyOf(t, kubeconfig)}
	r.checkSecrets(t, held, held, att[0].data)
}
