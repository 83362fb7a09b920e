package app

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputHostsIstioRefusesOnOwnGateway (break-it review of issue #13): --hosts model (and
// model.123, a 64-character label) passed config's check ("a lower-case DNS name") but Istio refuses
// them on the Gateway mlcanary writes (--gateway a bare name), so the run failed later with exit 1
// and a line about the Gateway, never naming --hosts. An input that can never work is exit 2, one
// line naming the input.
// Hosts that YAML would read as a boolean, null or a number ("on", "null", "1e3"; break-it review
// B of issue #13) are short names too, so they never reach an objects-only plan stream.
func TestInputHostsIstioRefusesOnOwnGateway(t *testing.T) {
	for _, host := range []string{"model", "a.com,model", "model.123", strings.Repeat("a", 64) + ".com", "on", "null", "1e3"} {
		t.Run(host, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := []string{"plan", "Blue_0", "--offline", "--image=myacr.azurecr.io/model:42", "--hosts=" + host}
			code := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args, func(string) (string, bool) { return "", false })
			if code != ExitInvalid || !strings.Contains(errb.String(), `invalid hosts "`) {
				t.Errorf("exit %d, stderr %q; want exit 2 and `invalid hosts`", code, errb.String())
			}
		})
	}
}

// TestInputDuplicateNameNamesTheFlagTyped (break-it review of issue #13): a user who sets
// --green-deployment=model-blue (blue's default name) was told `invalid blue-deployment
// "model-blue"`, a flag they never typed; the same for services. The refusal names the input the
// user gave.
func TestInputDuplicateNameNamesTheFlagTyped(t *testing.T) {
	kubeconfig, _ := countingCluster(t)
	for _, tc := range []struct{ arg, want string }{
		{"--green-deployment=model-blue", `invalid green-deployment "model-blue"`},
		{"--green-service=model-svc-blue", `invalid green-service "model-svc-blue"`},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := func(k string) (string, bool) {
				if k == "KUBECONFIG" {
					return kubeconfig, true
				}
				return "", false
			}
			code := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, []string{"stage", "Blue_50", tc.arg}, env)
			if code != ExitInvalid || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errb.String(), tc.want)
			}
		})
	}
}

// TestInputHostsShortNameOnAnotherGateway: a short host is Istio's on a VirtualService; it is the
// Gateway's servers that refuse one, so with --gateway NAMESPACE/NAME (someone else's Gateway) it
// is accepted, while an all-numeric top-level label is refused on the VirtualService too.
func TestInputHostsShortNameOnAnotherGateway(t *testing.T) {
	base := []string{"plan", "Blue_0", "--offline", "--image=myacr.azurecr.io/model:42", "--gateway=istio-system/public"}
	if code, _, errs := runCLI(t, "", append(base, "--hosts=model")...); code != ExitOK {
		t.Errorf("--hosts=model on another Gateway: exit %d, %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", append(base, "--hosts=model.123")...); code != ExitInvalid || !strings.Contains(errs, `invalid hosts "model.123"`) {
		t.Errorf("--hosts=model.123 on another Gateway: exit %d, %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "plan", "Blue_0", "--offline", "--image=myacr.azurecr.io/model:42", "--hosts=model"); !strings.Contains(errs, "short names") || !strings.Contains(errs, "gateway NAMESPACE/NAME") {
		t.Errorf("--hosts=model on mlcanary's Gateway: exit %d, %q; want Istio's reason and the way out", code, errs)
	}
}

// TestInputFrontEndsNameTheirOwnInputs: the Azure DevOps task and the GitHub Action refuse a short
// host on mlcanary's Gateway naming their hosts input, and a duplicate Deployment or Service name
// naming the input the user set (greenDeployment), although the task passes every input's default
// (blueDeployment model-blue) too.
func TestInputFrontEndsNameTheirOwnInputs(t *testing.T) {
	azure := func(extra map[string]string) map[string]string {
		env := map[string]string{"TF_BUILD": "True", "INPUT_STAGE": "Blue_50", "INPUT_KUBERNETESSERVICECONNECTION": "conn",
			"INPUT_GREENDEPLOYMENT": "model-green", "INPUT_BLUEDEPLOYMENT": "model-blue",
			"INPUT_GREENSERVICE": "model-svc-green", "INPUT_BLUESERVICE": "model-svc-blue", "INPUT_HOSTS": "*"}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{azure(map[string]string{"INPUT_HOSTS": "model"}), `invalid hosts "model": allowed:`},
		{azure(map[string]string{"INPUT_GREENDEPLOYMENT": "model-blue"}), `invalid greenDeployment "model-blue": allowed: a name different from blueDeployment`},
		{azure(map[string]string{"INPUT_BLUEDEPLOYMENT": "model-green"}), `invalid blueDeployment "model-green": allowed: a name different from greenDeployment`},
		{azure(map[string]string{"INPUT_GREENSERVICE": "model-svc-blue"}), `invalid greenService "model-svc-blue": allowed: a name different from blueService`},
	} {
		code, out := runFrontEnd(t, []string{"azure-devops-task"}, tc.env)
		if cmds := parseVSO(out); code != ExitInvalid || len(cmds) == 0 || !strings.HasPrefix(cmds[0].data, tc.want) {
			t.Errorf("Azure DevOps %v: exit %d, want %q in\n%s", tc.env, code, tc.want, out)
		}
	}
	dir := t.TempDir()
	github := func(k, v string) map[string]string {
		return map[string]string{"INPUT_STAGE": "Blue_50", k: v,
			"INPUT_KUBECONFIG": "apiVersion: v1\nkind: Config\n", "GITHUB_OUTPUT": filepath.Join(dir, "o"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "s")}
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{github("INPUT_HOSTS", "model"), `invalid hosts "model": allowed:`},
		{github("INPUT_GREEN_DEPLOYMENT", "model-blue"), `invalid green-deployment "model-blue": allowed: a name different from blue-deployment`},
		{github("INPUT_GREEN_SERVICE", "model-svc-blue"), `invalid green-service "model-svc-blue": allowed: a name different from blue-service`},
	} {
		code, out := runFrontEnd(t, []string{"github-action"}, tc.env)
		if code != ExitInvalid || !strings.Contains(out, "::error title=mlcanary::"+tc.want) {
			t.Errorf("GitHub %v: exit %d, want %q in\n%s", tc.env, code, tc.want, out)
		}
	}
}
