package app

import (
	"strings"
	"testing"
)

// TestSameAllowedWordsInBothCIFrontEnds: the same bad value of the same input gets the
// same "allowed:" words from the GitHub Action and the Azure DevOps task (only the input's
// spelling differs): each input's allowed text comes from one place (break-it review of issue
// #13: verify-requests "abc" was "a whole number" in the task, the flag's usage text in the action).
func TestSameAllowedWordsInBothCIFrontEnds(t *testing.T) {
	kc := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\n" +
		"users: [{name: u, user: {token: tok-break13b}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
	for _, tc := range []struct{ action, task, value string }{
		{"verify-requests", "verifyRequests", "abc"},
		{"verify-tolerance", "verifyTolerance", "abc"},
		{"replicas", "replicas", "abc"},
		{"gateway-port", "gatewayPort", "abc"},
		{"dry-run", "dryRun", "maybe"},
		{"capacity-check", "capacityCheck", "strict"},
		{"ingress", "ingress", "public"},
		{"compare-requests", "compareRequests", "no-such-requests.jsonl"},
		{"compare-request-timeout", "compareRequestTimeout", "abc"},
		{"compare-rate", "compareRate", "abc"},
		{"compare-concurrency", "compareConcurrency", "abc"},
		{"compare-confidence", "compareConfidence", "abc"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			dir := t.TempDir()
			gh := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": dir + "/o", "GITHUB_STEP_SUMMARY": dir + "/s",
				"INPUT_STAGE": "Blue_50", "INPUT_VERIFY_GATEWAY": "1.2.3.4", "INPUT_KUBECONFIG": kc,
				"INPUT_" + strings.ToUpper(strings.ReplaceAll(tc.action, "-", "_")): tc.value}
			az := map[string]string{"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": dir, "INPUT_KUBERNETESSERVICECONNECTION": "K",
				"ENDPOINT_DATA_K_AUTHORIZATIONTYPE": "Kubeconfig", "ENDPOINT_AUTH_PARAMETER_K_KUBECONFIG": kc,
				"INPUT_STAGE": "Blue_50", "INPUT_VERIFYGATEWAY": "1.2.3.4", "INPUT_" + strings.ToUpper(tc.task): tc.value}
			ghCode, ghOut := runFrontEnd(t, []string{"github-action"}, gh)
			azCode, azOut := runFrontEnd(t, []string{"azure-devops-task"}, az)
			allowed := func(out string) string {
				_, after, _ := strings.Cut(out, `"`+tc.value+`": allowed: `)
				line, _, _ := strings.Cut(after, "\n")
				return line
			}
			if ghCode != ExitInvalid || azCode != ExitInvalid || allowed(ghOut) == "" || allowed(ghOut) != allowed(azOut) {
				t.Errorf("exit %d / %d; allowed words differ:\n  action: %s\n  task:   %s", ghCode, azCode, allowed(ghOut), allowed(azOut))
			}
		})
	}
}
