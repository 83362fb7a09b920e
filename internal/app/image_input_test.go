package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hex64 is a sha256 digest's hex: as an image it is an image ID, not something a kubelet can pull.
const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestImageMustBePullable (issue #8, kind 9): an image resolves to what a kubelet can pull — a
// repository with a tag or digest, parsed as the kubelet and containerd parse it — and a refusal
// names the input that held the bad part, never one the user did not set. Nothing is sent.
func TestImageMustBePullable(t *testing.T) {
	kubeconfig, requests := countingCluster(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--image=sha256:" + hex64}, `invalid image "sha256:` + hex64 + `": allowed: a pullable image reference, not an image ID or a bare digest`},
		{[]string{"--image=" + hex64}, `invalid image "` + hex64 + `": allowed: a pullable image reference, not an image ID`},
		{[]string{"--image=x.io/m@sha256:" + hex64[:10]}, `invalid image "x.io/m@sha256:` + hex64[:10] + `": allowed: an image reference with a tag or digest`},
		{[]string{"--image=x.io/m"}, `invalid image "x.io/m": allowed: an image reference with a tag or digest`},
		{[]string{"--image= x.io/m:1"}, `invalid image " x.io/m:1"`},
		{[]string{"--image-repo=x.io/m", "--image-tag=sha256:12ab"}, `invalid image-tag "sha256:12ab": allowed: a tag of letters`},
		{[]string{"--image-repo=x.io/m", "--image-tag=v1:2"}, `invalid image-tag "v1:2"`},
		{[]string{"--image-repo=x.io/m", "--image-tag=.hidden"}, `invalid image-tag ".hidden"`},
		{[]string{"--image-repo=x.io/m", "--image-tag=" + strings.Repeat("a", 129)}, `invalid image-tag "aaaa`},
		{[]string{"--image-repo=x.io/m:1", "--image-tag=2"}, `invalid image-repo "x.io/m:1": allowed: a repository without tag or digest`},
		{[]string{"--image-repo=X.io/Model", "--image-tag=2"}, `invalid image-repo "X.io/Model"`},
		{[]string{"--image-repo=x.io/m@sha256:" + hex64, "--image-tag=2"}, `invalid image-repo "x.io/m@sha256:`},
		{[]string{"--image-repo=" + hex64, "--image-tag=2"}, `invalid image-repo "` + hex64 + `"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, kubeconfig, append([]string{"stage", "Blue_0"}, tc.args...)...)
			if code != ExitInvalid || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 2 and one line containing %q", code, errs, out, tc.want)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("bad images sent %d requests", n)
	}
}

// TestImageTagDigestIsJoinedAsDigest: an image-tag sha256:<hex> is the digest a registry printed,
// so it is deployed as repo@sha256:<hex> (a tag cannot hold ':'); TAG@sha256:<hex> keeps both.
func TestImageTagDigestIsJoinedAsDigest(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--image-repo=x.io/m", "--image-tag=sha256:" + hex64}, "image: x.io/m@sha256:" + hex64},
		{[]string{"--image-repo=x.io/m", "--image-tag=42@sha256:" + hex64}, "image: x.io/m:42@sha256:" + hex64},
		{[]string{"--image=x.io/m:42@sha256:" + hex64}, "image: x.io/m:42@sha256:" + hex64},
		{[]string{"--image=x.io/m@sha256:" + hex64}, "image: x.io/m@sha256:" + hex64},
		{[]string{"--image=localhost:5000/m:1"}, "image: localhost:5000/m:1"},
	} {
		code, out, errs := runCLI(t, "", append([]string{"plan", "Blue_0", "--offline"}, tc.args...)...)
		if code != ExitOK || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q in:\n%s", tc.args, code, errs, tc.want, out)
		}
	}
}

// TestEveryFrontEndNamesItsOwnInput: the same bad image-tag is refused by the CLI naming
// image-tag, by the Azure DevOps task naming imageTag, and by the GitHub Action naming image-tag
// (its input), each with exit 2 and one error line.
func TestEveryFrontEndNamesItsOwnInput(t *testing.T) {
	const tag = "sha256:12ab"
	allowed := `: allowed: a tag of letters, digits, '.', '_' and '-'`
	if code, _, errs := runCLI(t, "", "stage", "Blue_0", "--image-repo=x.io/m", "--image-tag="+tag); code != ExitInvalid ||
		errs != "mlcanary: invalid image-tag \""+tag+"\""+allowed+errs[len("mlcanary: invalid image-tag \""+tag+"\""+allowed):] {
		t.Errorf("CLI: exit %d, %q", code, errs)
	}
	azure := map[string]string{"TF_BUILD": "True", "INPUT_STAGE": "Blue_0", "INPUT_IMAGEREPOSITORY": "x.io/m", "INPUT_IMAGETAG": tag,
		"INPUT_KUBERNETESSERVICECONNECTION": "conn"}
	code, out := runFrontEnd(t, []string{"azure-devops-task"}, azure)
	if cmds := parseVSO(out); code != ExitInvalid || len(cmds) == 0 || !strings.HasPrefix(cmds[0].data, `invalid imageTag "`+tag+`"`+allowed) {
		t.Errorf("Azure DevOps: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	github := map[string]string{"INPUT_STAGE": "Blue_0", "INPUT_IMAGE_REPO": "x.io/m", "INPUT_IMAGE_TAG": tag,
		"INPUT_KUBECONFIG": "apiVersion: v1\nkind: Config\n", "GITHUB_OUTPUT": filepath.Join(dir, "o"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "s")}
	code, out = runFrontEnd(t, []string{"github-action"}, github)
	if code != ExitInvalid || !strings.Contains(out, `::error title=mlcanary::invalid image-tag "`+tag+`"`+allowed) || strings.Count(out, "::error") != 1 {
		t.Errorf("GitHub: exit %d\n%s", code, out)
	}
	// An input mentioned in the message is the task's name too.
	azure["INPUT_IMAGE"] = "x.io/m:1"
	if code, out = runFrontEnd(t, []string{"azure-devops-task"}, azure); code != ExitInvalid || !strings.Contains(out, `invalid image "x.io/m:1": allowed: either image or imageRepository plus imageTag, not both`) {
		t.Errorf("Azure DevOps, image and imageRepository: exit %d\n%s", code, out)
	}
}

// runFrontEnd runs mlcanary with args and exactly env as its environment; it returns the exit
// code and stdout (where both CI front ends write their logging commands).
func runFrontEnd(t *testing.T, args []string, env map[string]string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args, lookup)
	return code, out.String()
}

// TestStageArgumentIsInput: an empty or blank STAGE is bad input (exit 2) like any other, for
// plan --offline, plan and stage alike; it never reaches the engine as "unknown stage".
func TestStageArgumentIsInput(t *testing.T) {
	kubeconfig, requests := countingCluster(t)
	for _, args := range [][]string{
		{"plan", "", "--offline"}, {"plan", " ", "--offline"}, {"plan", ""}, {"stage", ""}, {"stage", "\t"},
		{"plan", "Blue_5\n0", "--offline"}, {"plan", "Blue_٥٠", "--offline"}, {"stage", "Blue_" + strings.Repeat("9", 400)},
	} {
		code, out, errs := runCLI(t, kubeconfig, args...)
		if code != ExitInvalid || !strings.HasPrefix(errs, "mlcanary: invalid stage ") || strings.Count(errs, "\n") != 1 || out != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("bad stages sent %d requests", n)
	}
}

// TestHostileValuesAreQuoted: control characters, logging-command look-alikes, non-ASCII and
// over-long values in any flag come back as one escaped line, never raw; "##vso[" loses its
// bracket, since the Azure Pipelines agent runs it anywhere in a line (config.Neutralise).
func TestHostileValuesAreQuoted(t *testing.T) {
	kubeconfig, requests := countingCluster(t)
	long := strings.Repeat("x", 5000)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--namespace=a\n::error::forged"}, `invalid namespace "a\n::error::forged"`},
		{[]string{"--app=\r##vso[task.complete result=Succeeded]"}, `invalid app "\r##vso%5Btask.complete result=Succeeded]"`},
		{[]string{"--header=x-\x1b[31mred"}, `invalid header "x-\x1b[31mred"`},
		{[]string{"--hosts=exa\u202emple.com"}, `invalid hosts "exa\u202emple.com"`},
		{[]string{"--gateway-selector=istio=ingréss"}, `invalid gateway-selector "istio=ingréss"`},
		{[]string{"--uri-prefix=/score\x00"}, `invalid uri-prefix "/score\x00"`},
		{[]string{"--timeout=" + long}, `invalid timeout "` + long[:120] + `"… (5000 characters)`},
		{[]string{"--image-pull-secret=\xff\xfe"}, `invalid image-pull-secret "\xff\xfe"`},
		{[]string{"--no-such\n::error::x"}, `unknown flag: --no-such\n::error::x`},
		{[]string{"--replicas= "}, `invalid replicas " "`},
		{[]string{"--timeout=100000000000"}, `invalid timeout "100000000000"`},
		{[]string{"--timeout=-5"}, `invalid timeout "-5"`},
	} {
		code, out, errs := runCLI(t, kubeconfig, append([]string{"stage", "Blue_0", "--image=x.io/m:1"}, tc.args...)...)
		if code != ExitInvalid || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 || out != "" || hasControl(strings.TrimSuffix(errs, "\n")) || strings.Contains(errs, "##vso[") {
			t.Errorf("%q: exit %d, stderr %q; want one escaped line containing %q", tc.args, code, errs, tc.want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("bad input sent %d requests", n)
	}
}

// hasControl reports a control character or invalid UTF-8 in s.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd || (r >= 0x80 && r < 0xa0) || r == 0x202e {
			return true
		}
	}
	return false
}

// TestRefusedStageIsTheSameLineInEveryFrontEnd: a stage refused by its precondition is reported
// with the same one line by the CLI, the Azure DevOps task and the GitHub Action — the engine's
// sentence, which names the stage once (the GitHub front end used to prefix it again:
// "Blue_50: Blue_50: …") — and exits 1 in each.
func TestRefusedStageIsTheSameLineInEveryFrontEnd(t *testing.T) {
	e := shared.Env(t)
	const ns = "abtest-same-line"
	if err := e.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	path := e.Kubeconfig(t)
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "Blue_50: blue (Deployment " + ns + "/model-blue) must exist and be ready, but it does not exist; Blue_0 deploys it"

	code, _, errs := runCLI(t, path, "stage", "Blue_50", "-n", ns)
	if cli := strings.TrimPrefix(strings.TrimSuffix(errs, "\n"), "mlcanary: "); code != ExitFailed || cli != want {
		t.Errorf("CLI: exit %d, line %q, want %q", code, cli, want)
	}

	const conn = "c0ffee00-0000-4000-8000-000000000000"
	code, out := runFrontEnd(t, []string{"azure-devops-task"}, map[string]string{"TF_BUILD": "True", "INPUT_STAGE": "Blue_50", "INPUT_NAMESPACE": ns,
		"INPUT_KUBERNETESSERVICECONNECTION": conn, "ENDPOINT_URL_" + conn: e.Config.Host, "ENDPOINT_AUTH_SCHEME_" + conn: "Kubernetes",
		"ENDPOINT_DATA_" + conn + "_AUTHORIZATIONTYPE": "Kubeconfig", "ENDPOINT_AUTH_PARAMETER_" + conn + "_KUBECONFIG": string(content)})
	var azure []string
	for _, c := range parseVSO(out) {
		if c.name == "task.logissue" && c.props["type"] == "error" {
			azure = append(azure, c.data)
		}
	}
	if code != ExitFailed || len(azure) != 1 || azure[0] != want {
		t.Errorf("Azure DevOps: exit %d, errors %q, want [%q]\n%s", code, azure, want, out)
	}

	dir := t.TempDir()
	code, out = runFrontEnd(t, []string{"github-action"}, map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_NAMESPACE": ns,
		"INPUT_KUBECONFIG": string(content), "GITHUB_OUTPUT": filepath.Join(dir, "o"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "s")})
	var github []string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "::error title=mlcanary::"); ok {
			github = append(github, strings.NewReplacer("%0A", "\n", "%0D", "\r", "%25", "%").Replace(rest))
		}
	}
	if code != ExitFailed || len(github) != 1 || github[0] != want {
		t.Errorf("GitHub: exit %d, errors %q, want [%q]\n%s", code, github, want, out)
	}
}
