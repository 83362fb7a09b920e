package app

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/azdo"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/github"
)

// fuzzFlags are the inputs of stage, plan and status that take a value, as the CLI spells them.
var fuzzFlags = []string{
	config.FlagNamespace, config.FlagApp, config.FlagGreenDeployment, config.FlagBlueDeployment,
	config.FlagGreenService, config.FlagBlueService, config.FlagGateway, config.FlagVirtualService,
	config.FlagGatewaySelector, config.FlagHosts, config.FlagGatewayPort, config.FlagPort, config.FlagReplicas,
	config.FlagImagePullSecret, config.FlagHeader, config.FlagURIPrefix, config.FlagImage, config.FlagImageRepo,
	config.FlagImageTag, config.FlagTimeout, config.FlagDryRun, "output", "kubeconfig", "context",
}

// hostileValues seed every fuzz target: empty, blank, control characters, logging-command
// look-alikes, non-ASCII, over-long, image IDs and digests, and a few valid values.
var hostileValues = []string{
	"", " ", "\t", "\n", "a\nb", "a\r\nb", "\x00", "\x1b[31m", "::error::forged", "##vso[task.complete result=Succeeded]",
	"ñ", "日本", "exa\u202emple", "\xff\xfe", strings.Repeat("a", 300), strings.Repeat("é", 100),
	"sha256:" + hex64, hex64, "x.io/m@sha256:" + hex64, "-1", "0", "99999999999", "1e3", "10m", "true", "maybe",
	"json", "c", "model", "/score", "x-api-version", "istio=ingressgateway", "*", "a,b", "x.io/m:1",
}

// checkRefusal asserts the invariant for one CLI run: exit 2 means exactly one line on stderr that
// names input, holds no raw control character, nothing on stdout and no request sent; anything else
// means the input was accepted (then the stand-in cluster answers 500, so the run fails with 1).
func checkRefusal(t *testing.T, input string, code int, out, errs string, requests int64) {
	t.Helper()
	switch code {
	case ExitInvalid:
		line := strings.TrimSuffix(errs, "\n")
		if strings.Count(errs, "\n") != 1 || strings.Contains(line, "\n") || hasControl(line) {
			t.Fatalf("refusal is not one escaped line: %q", errs)
		}
		if !strings.Contains(line, "invalid "+input+" ") && !strings.Contains(line, `"--`+input+`"`) {
			t.Fatalf("refusal does not name %s: %q", input, errs)
		}
		if out != "" || requests != 0 {
			t.Fatalf("refused input printed %q and sent %d requests", out, requests)
		}
	case ExitOK, ExitFailed:
		if hasControl(strings.TrimSuffix(errs, "\n")) {
			t.Fatalf("stderr holds a raw control character: %q", errs)
		}
	default:
		t.Fatalf("exit code %d", code)
	}
}

// FuzzCLIFlag sets one flag of `mlcanary plan Blue_0` (against a counting stand-in cluster) to
// any value. Valid image flags are given so that only the fuzzed input can be wrong.
func FuzzCLIFlag(f *testing.F) {
	for i := range fuzzFlags {
		for _, v := range hostileValues {
			f.Add(uint8(i), v)
		}
	}
	kubeconfig, requests := countingCluster(f)
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		flag := fuzzFlags[int(which)%len(fuzzFlags)]
		set := map[string]string{config.FlagImageRepo: "x.io/m", config.FlagImageTag: "1"}
		if flag == config.FlagImage {
			set = map[string]string{}
		}
		set[flag] = value
		args := []string{"plan", "Blue_0"}
		for k, v := range set {
			args = append(args, "--"+k+"="+v)
		}
		requests.Store(0)
		code, out, errs := runCLI(t, kubeconfig, args...)
		checkRefusal(t, flag, code, out, errs, requests.Load())
	})
}

// FuzzCLIArgs gives the argument parser any arguments after stage, plan or status (split at
// NUL), so unknown flags, missing values, stray arguments and odd stage names are all exercised.
func FuzzCLIArgs(f *testing.F) {
	for _, seed := range []string{"Blue_0", "", "Blue_50\x00--offline", "\x00", "--image\x00", "-n\x00\n", "--offline\x00--offline",
		"Blue_0\x00--image=x.io/m:1\x00--image-tag=1", "--\x00Blue_0", "-o=\x1b", "Blue_0\x00extra", "--help", "-x\n::error::y"} {
		for cmd := range uint8(3) {
			f.Add(cmd, seed)
		}
	}
	kubeconfig, requests := countingCluster(f)
	f.Fuzz(func(t *testing.T, cmd uint8, joined string) {
		args := append([]string{[]string{"stage", "plan", "status"}[int(cmd)%3]}, strings.Split(joined, "\x00")...)
		requests.Store(0)
		var code int
		var out, errs string
		code, out, errs = runCLI(t, kubeconfig, args...)
		if code == ExitInvalid {
			line := strings.TrimSuffix(errs, "\n")
			if strings.Count(errs, "\n") != 1 || hasControl(line) || out != "" || requests.Load() != 0 {
				t.Fatalf("%q: refusal %q (stdout %q, %d requests)", args, errs, out, requests.Load())
			}
		} else if code != ExitOK && code != ExitFailed || hasControl(strings.TrimSuffix(errs, "\n")) {
			t.Fatalf("%q: exit %d, stderr %q", args, code, errs)
		}
	})
}

// FuzzFrontEndInput sets one Azure DevOps task input and the same GitHub Action input to any value:
// a refusal is an InputError naming that input as each front end calls it (imageTag / image-tag),
// its message one escaped line; nothing reaches a stage.
func FuzzFrontEndInput(f *testing.F) {
	for i := range fuzzFlags[:21] {
		for _, v := range hostileValues {
			f.Add(uint8(i), v)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		flag := fuzzFlags[int(which)%21] // the inputs both CI front ends have
		set := map[string]string{config.FlagImageRepo: "x.io/m", config.FlagImageTag: "1"}
		if flag == config.FlagImage {
			set = map[string]string{}
		}
		set[flag] = value
		// Azure DevOps: the task's camelCase names.
		task := map[string]string{"INPUT_STAGE": "Blue_0", "INPUT_KUBERNETESSERVICECONNECTION": "conn"}
		for k, v := range set {
			task["INPUT_"+strings.ToUpper(azdo.TaskInput(k))] = v
		}
		var in *config.InputError
		_, aerr := azdo.NewFront(func(k string) (string, bool) { v, ok := task[k]; return v, ok }, io.Discard).Inputs()
		if aerr != nil {
			if !errors.As(aerr, &in) || in.Input != azdo.TaskInput(flag) {
				t.Fatalf("Azure DevOps %s=%q: %v does not name %s", flag, value, aerr, azdo.TaskInput(flag))
			}
			if hasControl(aerr.Error()) {
				t.Fatalf("Azure DevOps message not escaped: %q", aerr.Error())
			}
		}
		// GitHub: the action's names are the flags'.
		env := map[string]string{"INPUT_STAGE": "Blue_0"}
		for k, v := range set {
			env["INPUT_"+strings.ToUpper(k)] = v
		}
		_, _, gerr := github.ReadInputs(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if (gerr == nil) != (aerr == nil) {
			t.Fatalf("%s=%q: the front ends disagree: Azure DevOps %v, GitHub %v", flag, value, aerr, gerr)
		}
		if gerr != nil && (!errors.As(gerr, &in) || in.Input != flag || hasControl(gerr.Error())) {
			t.Fatalf("GitHub %s=%q: %v does not name %s in one escaped line", flag, value, gerr, flag)
		}
	})
}
