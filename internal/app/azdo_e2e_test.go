package app

import (
	"encoding/base64"
	"os"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
)

const k8sConn = "3f1d8a52-9c1e-4b7e-a6d2-5e0c4b9a7f10"

// TestTaskThroughLauncher runs the task as the agent does — node index.js with INPUT_*, ENDPOINT_*
// and SYSTEM_* set — against a real API server, through a ServiceAccount-token connection and a
// Kubeconfig connection, and checks the logging commands, the summary file, the output variables,
// the build tag, the exit code and that no secret is printed.
func TestTaskThroughLauncher(t *testing.T) {
	task := launcher(t)
	e := shared.Env(t)
	e.StartController(t)
	org := azdotest.Start(t)
	const ns = "abtest-azdo"
	token := pipelineToken(t, e, ns)
	kubeconfig, err := os.ReadFile(e.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	kc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var clientKey string
	for _, a := range kc.AuthInfos {
		clientKey = base64.StdEncoding.EncodeToString(a.ClientKeyData)
	}
	serviceAccount := map[string]string{
		"ENDPOINT_URL_" + k8sConn:                                           e.Config.Host,
		"ENDPOINT_AUTH_SCHEME_" + k8sConn:                                   "Token",
		"ENDPOINT_DATA_" + k8sConn + "_AUTHORIZATIONTYPE":                   "ServiceAccount",
		"ENDPOINT_AUTH_PARAMETER_" + k8sConn + "_APITOKEN":                  base64.StdEncoding.EncodeToString([]byte(token)),
		"ENDPOINT_AUTH_PARAMETER_" + k8sConn + "_SERVICEACCOUNTCERTIFICATE": base64.StdEncoding.EncodeToString(e.Config.CAData),
	}
	kubeconfigConn := map[string]string{
		"ENDPOINT_URL_" + k8sConn:                            e.Config.Host,
		"ENDPOINT_AUTH_SCHEME_" + k8sConn:                    "Kubernetes",
		"ENDPOINT_DATA_" + k8sConn + "_AUTHORIZATIONTYPE":    "Kubeconfig",
		"ENDPOINT_AUTH_PARAMETER_" + k8sConn + "_KUBECONFIG": string(kubeconfig),
	}
	saHeld := []string{token, base64.StdEncoding.EncodeToString([]byte(token)), org.Token}
	secrets := append([]string{clientKey}, saHeld...)
	image := "myacr.azurecr.io/model:42"
	steps := []struct {
		name, stage string
		conn        map[string]string
		held        []string
		inputs      map[string]string
		tagFails    bool
		wantOutputs map[string]string
		wantTags    []string
	}{
		{"service account Blue_0", "Blue_0", serviceAccount, saHeld, map[string]string{"INPUT_IMAGEREPOSITORY": "myacr.azurecr.io/model", "INPUT_IMAGETAG": "42"}, false,
			map[string]string{"stage": "Blue_0", "greenWeight": "0", "blueWeight": "0", "greenImage": "", "blueImage": image, "changed": "true"}, []string{"Blue_0"}},
		{"kubeconfig Blue_50", "Blue_50", kubeconfigConn, []string{clientKey, org.Token}, map[string]string{"INPUT_IMAGE": image}, false,
			map[string]string{"stage": "Blue_50", "greenWeight": "0", "blueWeight": "100", "greenImage": "", "blueImage": image, "changed": "true"}, []string{"Blue_0", "Blue_50"}},
		{"failed tag is a warning", "Blue_100", serviceAccount, saHeld, nil, true,
			map[string]string{"stage": "Blue_100", "greenWeight": "0", "blueWeight": "100", "greenImage": "", "blueImage": image, "changed": "true"}, []string{"Blue_0", "Blue_50"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			env := jobEnv(t, org)
			for _, m := range []map[string]string{s.conn, s.inputs} {
				for k, v := range m {
					env[k] = v
				}
			}
			env["INPUT_CONNECTIONTYPE"] = "kubernetesServiceConnection"
			env["INPUT_KUBERNETESSERVICECONNECTION"] = k8sConn
			env["INPUT_STAGE"], env["INPUT_NAMESPACE"], env["INPUT_TIMEOUT"] = s.stage, ns, "60"
			org.Fail = 0
			if s.tagFails {
				org.Fail = 403
			}
			r := runTask(t, task, env)
			if r.code != 0 {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if got := r.find("task.complete"); len(got) != 1 || got[0].props["result"] != "Succeeded" {
				t.Errorf("task.complete %+v, want one Succeeded", got)
			}
			outs := r.outputs()
			for k, v := range s.wantOutputs {
				if outs[k] != v {
					t.Errorf("output %s = %q, want %q", k, outs[k], v)
				}
			}
			att := r.find("task.addattachment")
			if len(att) != 1 || att[0].props["type"] != "Distributedtask.Core.Summary" || !strings.HasPrefix(att[0].data, env["AGENT_TEMPDIRECTORY"]) {
				t.Fatalf("summary attachment %+v", att)
			}
			md, err := os.ReadFile(att[0].data)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{s.stage, image, ns} {
				if !strings.Contains(string(md), want) {
					t.Errorf("summary lacks %q:\n%s", want, md)
				}
			}
			if !slices.Equal(org.Tags(), s.wantTags) {
				t.Errorf("build tags %v, want %v", org.Tags(), s.wantTags)
			}
			warnings := r.find("task.logissue")
			if s.tagFails != (len(warnings) == 1 && warnings[0].props["type"] == "warning" && strings.Contains(warnings[0].data, "VS403403")) {
				t.Errorf("issues %+v (tag fails: %v)", warnings, s.tagFails)
			}
			if len(r.find("task.setprogress")) == 0 {
				t.Error("no progress reported")
			}
			r.checkSecrets(t, secrets, s.held, att[0].data)
			t.Logf("agent log:\n%s", r.stdout)
		})
	}
}

// TestTaskFailuresThroughLauncher checks bad input exits 2 and an unreachable cluster exits 1, each
// with one error issue and a Failed result, and nothing tagged.
func TestTaskFailuresThroughLauncher(t *testing.T) {
	task := launcher(t)
	org := azdotest.Start(t)
	tests := []struct {
		name     string
		inputs   map[string]string
		wantCode int
		wantMsg  string
	}{
		{"bad stage", map[string]string{"INPUT_STAGE": "Blue_150"}, 2, "invalid stage"},
		{"bad advanced input", map[string]string{"INPUT_GREENDEPLOYMENT": "Model_Green"}, 2, "invalid greenDeployment"},
		{"unreachable cluster", map[string]string{"ENDPOINT_URL_" + k8sConn: "https://127.0.0.1:1"}, 1, "127.0.0.1:1"},
		{"unsupported authorization", map[string]string{"ENDPOINT_DATA_" + k8sConn + "_AUTHORIZATIONTYPE": "Certificate"}, 1, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := jobEnv(t, org)
			env["INPUT_KUBERNETESSERVICECONNECTION"] = k8sConn
			env["INPUT_STAGE"] = "Blue_100"
			env["ENDPOINT_DATA_"+k8sConn+"_AUTHORIZATIONTYPE"] = "ServiceAccount"
			env["ENDPOINT_URL_"+k8sConn] = "https://127.0.0.1:1"
			env["ENDPOINT_AUTH_PARAMETER_"+k8sConn+"_APITOKEN"] = base64.StdEncoding.EncodeToString([]byte("sa-token-secret"))
			for k, v := range tt.inputs {
				env[k] = v
			}
			r := runTask(t, task, env)
			if r.code != tt.wantCode {
				t.Errorf("exit code %d, want %d\n%s%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			issues, done := r.find("task.logissue"), r.find("task.complete")
			if len(issues) != 1 || issues[0].props["type"] != "error" || !strings.Contains(issues[0].data, tt.wantMsg) {
				t.Errorf("issues %+v, want one error containing %q", issues, tt.wantMsg)
			}
			if len(done) != 1 || done[0].props["result"] != "Failed" {
				t.Errorf("task.complete %+v, want one Failed", done)
			}
			held := []string{"sa-token-secret", base64.StdEncoding.EncodeToString([]byte("sa-token-secret")), org.Token}
			r.checkSecrets(t, held, held)
		})
	}
	if len(org.Tags()) != 0 {
		t.Errorf("a failed run tagged the build: %v", org.Tags())
	}
}
