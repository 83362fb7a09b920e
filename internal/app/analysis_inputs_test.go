package app

import (
	"strings"
	"testing"
)

// TestAnalysisInputsInBothCIFrontEnds: the analysis after a stage is asked for and tuned by the same
// inputs in the GitHub Action (the flags' names) and the Azure DevOps task (camelCase), validated
// by the same code: each bad value exits 2 with one line naming the input as that front end spells
// it and the same allowed words, before anything is sent; the Prometheus token and password inputs
// are masked before any other line and never printed, also when they are refused.
func TestAnalysisInputsInBothCIFrontEnds(t *testing.T) {
	kc := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\n" +
		"users: [{name: u, user: {token: tok-analysis}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
	const token, password = "prom-token-s3cr3t", "prom-pass-s3cr3t"
	analysis := map[string]string{"analysis": "true", "prometheus-url": "http://prometheus:9090"}
	for _, tc := range []struct {
		name          string
		stage         string
		inputs        map[string]string // by the action's names
		action, task  string            // the input each names
		value, allows string
	}{
		{"window out of range", "Blue_50", map[string]string{"window": "30s"}, "window", "window", "30s", "a duration from 1m to 24h"},
		{"unknown on-degraded", "Blue_50", map[string]string{"on-degraded": "abort"}, "on-degraded", "onDegraded", "abort", "rollback or hold"},
		{"unknown on-undecided", "Blue_50", map[string]string{"on-undecided": "retry"}, "on-undecided", "onUndecided", "retry", "fail or pass"},
		{"unknown source", "Blue_50", map[string]string{"source": "graphite"}, "source", "source", "graphite", "prometheus or loadtest"},
		{"malformed analysis", "Blue_50", map[string]string{"analysis": "maybe"}, "analysis", "analysis", "maybe", "true or false"},
		{"too large a margin", "Blue_50", map[string]string{"max-error-increase": "100"}, "max-error-increase", "maxErrorIncrease", "100", "percentage points"},
		{"paired load without its gateway", "Blue_50", map[string]string{"source": "loadtest"}, "analysis-gateway", "analysisGateway", "", "with source loadtest"},
		{"paired load's method", "Blue_50", map[string]string{"source": "loadtest", "analysis-gateway": "20.1.2.3", "method": "PUT"}, "method", "method", "PUT", "GET or POST"},
		{"analysis on Blue_0", "Blue_0", map[string]string{"image": "m:1"}, "analysis", "analysis", "true", "true only with the stages "},
		{"a tuning input without analysis", "Blue_50", map[string]string{"analysis": "false", "prometheus-url": "", "on-degraded": "hold"}, "on-degraded", "onDegraded", "hold", "only with analysis true"},
		{"token with basic auth", "Blue_50", map[string]string{"prometheus-token": token, "prometheus-user": "u", "prometheus-password": password},
			"prometheus-token", "prometheusToken", "(secret, not shown)", "a bearer token, or basic auth"},
		{"a token without analysis", "Blue_50", map[string]string{"analysis": "false", "prometheus-url": "", "prometheus-token": token},
			"prometheus-token", "prometheusToken", "(secret, not shown)", "only with analysis true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			gh := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": dir + "/o", "GITHUB_STEP_SUMMARY": dir + "/s",
				"INPUT_STAGE": tc.stage, "INPUT_KUBECONFIG": kc}
			az := map[string]string{"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": dir, "INPUT_KUBERNETESSERVICECONNECTION": "K",
				"ENDPOINT_DATA_K_AUTHORIZATIONTYPE": "Kubeconfig", "ENDPOINT_AUTH_PARAMETER_K_KUBECONFIG": kc, "INPUT_STAGE": tc.stage}
			for _, m := range []map[string]string{analysis, tc.inputs} {
				for name, v := range m {
					gh["INPUT_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))] = v
					az["INPUT_"+strings.ToUpper(taskName(name))] = v
				}
			}
			ghCode, ghOut := runFrontEnd(t, []string{"github-action"}, gh)
			azCode, azOut := runFrontEnd(t, []string{"azure-devops-task"}, az)
			for _, f := range []struct{ out, input string }{{ghOut, tc.action}, {azOut, tc.task}} {
				if !strings.Contains(f.out, `invalid `+f.input+` "`+tc.value+`": allowed: `) {
					t.Errorf("no one line naming %s:\n%s", f.input, f.out)
				}
			}
			allowed := func(out string) string {
				_, after, _ := strings.Cut(out, `"`+tc.value+`": allowed: `)
				line, _, _ := strings.Cut(after, "\n")
				return line
			}
			// The task names other inputs its own way ({source} → source, {prometheus-user} → prometheusUser).
			if ghCode != ExitInvalid || azCode != ExitInvalid || !strings.Contains(allowed(ghOut), tc.allows) || !strings.Contains(allowed(azOut), tc.allows) {
				t.Errorf("exit %d / %d; allowed words:\n  action: %s\n  task:   %s", ghCode, azCode, allowed(ghOut), allowed(azOut))
			}
			for _, out := range []string{ghOut, azOut} {
				lines := strings.Split(out, "\n")
				for i, line := range lines {
					masks := strings.HasPrefix(line, "::add-mask::") || strings.HasPrefix(line, "##vso[task.setsecret]")
					for _, s := range []string{token, password} {
						if strings.Contains(line, s) && !masks {
							t.Errorf("line %d shows a secret: %q", i, line)
						}
					}
				}
				if v, ok := tc.inputs["prometheus-token"]; ok && !strings.Contains(out, "::add-mask::"+v) && !strings.Contains(out, "##vso[task.setsecret]"+v) {
					t.Errorf("the token is not masked:\n%s", out)
				}
			}
		})
	}
}

// taskName is the Azure DevOps task's spelling of an action input (frontend.TaskName).
func taskName(action string) string {
	parts := strings.Split(action, "-")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}
