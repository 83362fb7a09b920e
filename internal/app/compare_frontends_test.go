package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareRequestsInput: the task's compareRequests and the action's compare-requests are read
// and checked by the same code before anything reaches the cluster: a file with a bad line names the
// line, a missing file says so, and without a verify gateway each names its own front end's input.
func TestCompareRequestsInput(t *testing.T) {
	kubeconfig, requests := countingCluster(t)
	kc, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "requests.jsonl")
	if err := os.WriteFile(bad, []byte("[1, 2]\n[3, 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const lines = `allowed: JSON Lines: one request per line, a JSON body or {"body": …, "headers": {"name": "value"}, "path": "/score"} (line 2: not JSON: unexpected end of JSON input)`
	// A header written whole as its name, as `curl -H "Authorization: Bearer …"` has it (second #11
	// break-it review, D8): named up to the ':', its credential never in the log.
	token := filepath.Join(dir, "token.jsonl")
	if err := os.WriteFile(token, []byte(`{"body": [1], "headers": {"Authorization: Bearer eyJs3cr3t-t0ken": ""}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const tokenLine = `(line 1: the header name starting "Authorization" holds ":", which a name cannot (the rest is not shown`
	good := filepath.Join(dir, "good.jsonl")
	if err := os.WriteFile(good, []byte("[1, 2]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, gateway, action, task string
		extra                             map[string]string // the action's input names, without INPUT_
	}{
		{"a bad line", bad, "1.2.3.4", `invalid compare-requests "` + bad + `": ` + lines, `invalid compareRequests "` + bad + `": ` + lines, nil},
		{"a credential in a header name", token, "1.2.3.4", `invalid compare-requests "` + token + `": `, tokenLine, nil},
		{"no file", filepath.Join(dir, "none.jsonl"), "auto", `invalid compare-requests "` + filepath.Join(dir, "none.jsonl") + `": allowed: a readable file`,
			`invalid compareRequests "` + filepath.Join(dir, "none.jsonl") + `": allowed: a readable file`, nil},
		{"no verify gateway", bad, "", `invalid compare-requests "` + bad + `": allowed: a JSON Lines file of requests in the repository, with verify-gateway set`,
			`invalid compareRequests "` + bad + `": allowed: a JSON Lines file of requests in the repository, with verifyGateway set`, nil},
		// The comparison's own inputs (#11 break-it review, F1), checked by the CLI's rules under each front end's name.
		{"a bad field", good, "auto", `invalid compare-fields "a..b": allowed: a JSON path`, `invalid compareFields "a..b": allowed: a JSON path`,
			map[string]string{"COMPARE_FIELDS": "label, a..b"}},
		{"a negative tolerance", good, "auto", `invalid compare-abs-tolerance "-0.1": allowed: a number of 0 or more`,
			`invalid compareAbsTolerance "-0.1": allowed: a number of 0 or more`, map[string]string{"COMPARE_ABS_TOLERANCE": "-0.1"}},
		{"a tolerance that is no number", good, "auto", `invalid compare-rel-tolerance "tiny": allowed: a number of 0 or more`,
			`invalid compareRelTolerance "tiny": allowed: a number of 0 or more`, map[string]string{"COMPARE_REL_TOLERANCE": "tiny"}},
		{"a maximum of 0", good, "auto", `invalid compare-max-disagreement "0": allowed: a percentage above 6.64e-07 and below 100`,
			`invalid compareMaxDisagreement "0": allowed: a percentage above 6.64e-07 and below 100`, map[string]string{"COMPARE_MAX_DISAGREEMENT": "0"}},
		// The comparison's load and confidence (second #11 break-it review, D6), by the CLI's rules too.
		{"a timeout of 0", good, "auto", `invalid compare-request-timeout "0s": allowed: a duration above 0, e.g. 10s`,
			`invalid compareRequestTimeout "0s": allowed: a duration above 0, e.g. 10s`, map[string]string{"COMPARE_REQUEST_TIMEOUT": "0s"}},
		{"a timeout that is no duration", good, "auto", `invalid compare-request-timeout "slow": allowed: a duration above 0, e.g. 10s`,
			`invalid compareRequestTimeout "slow": allowed: a duration above 0, e.g. 10s`, map[string]string{"COMPARE_REQUEST_TIMEOUT": "slow"}},
		{"a negative rate", good, "auto", `invalid compare-rate "-5": allowed: requests per second, 0 or more`,
			`invalid compareRate "-5": allowed: requests per second, 0 or more`, map[string]string{"COMPARE_RATE": "-5"}},
		{"no requests in flight", good, "auto", `invalid compare-concurrency "0": allowed: a whole number from 1 to 10000`,
			`invalid compareConcurrency "0": allowed: a whole number from 1 to 10000`, map[string]string{"COMPARE_CONCURRENCY": "0"}},
		{"a confidence of 1", good, "auto", `invalid compare-confidence "1": allowed: a fraction from 0.5 to below 1`,
			`invalid compareConfidence "1": allowed: a fraction from 0.5 to below 1`, map[string]string{"COMPARE_CONFIDENCE": "1"}},
		{"a maximum no number of requests could prove", good, "auto", `invalid compare-max-disagreement "1e-10": allowed: a percentage above 6.64e-07 and below 100`,
			`invalid compareMaxDisagreement "1e-10": allowed: a percentage above 6.64e-07 and below 100`, map[string]string{"COMPARE_MAX_DISAGREEMENT": "1e-10"}},
	} {
		out := filepath.Join(t.TempDir(), "o")
		gh := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": out + "s",
			"INPUT_STAGE": "Blue_50", "INPUT_VERIFY_GATEWAY": tc.gateway, "INPUT_KUBECONFIG": string(kc), "INPUT_COMPARE_REQUESTS": tc.file}
		az := map[string]string{"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": t.TempDir(), "INPUT_KUBERNETESSERVICECONNECTION": "K",
			"ENDPOINT_DATA_K_AUTHORIZATIONTYPE": "Kubeconfig", "ENDPOINT_AUTH_PARAMETER_K_KUBECONFIG": string(kc),
			"INPUT_STAGE": "Blue_50", "INPUT_VERIFYGATEWAY": tc.gateway, "INPUT_COMPAREREQUESTS": tc.file}
		for k, v := range tc.extra {
			gh["INPUT_"+k] = v
			az["INPUT_"+strings.ReplaceAll(k, "_", "")] = v
		}
		ghCode, ghOut := runFrontEnd(t, []string{"github-action"}, gh)
		azCode, azOut := runFrontEnd(t, []string{"azure-devops-task"}, az)
		if ghCode != ExitInvalid || !strings.Contains(ghOut, tc.action) {
			t.Errorf("%s: action exit %d, output\n%s\nwant exit 2 and %s", tc.name, ghCode, ghOut, tc.action)
		}
		if azCode != ExitInvalid || !strings.Contains(azOut, tc.task) {
			t.Errorf("%s: task exit %d, output\n%s\nwant exit 2 and %s", tc.name, azCode, azOut, tc.task)
		}
		if strings.Contains(ghOut+azOut, "s3cr3t") {
			t.Errorf("%s: the output shows the line's credential:\n%s\n%s", tc.name, ghOut, azOut)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the cluster on bad input, want none", n)
	}
}
