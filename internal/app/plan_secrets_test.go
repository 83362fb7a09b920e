package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretPod is a pod template as teams have them before they move credentials out: in env values,
// in args (both flag forms), in a connection string and in a SAS URL (breakit9 G8).
const secretPod = `spec:
  containers:
    - name: model
      image: x
      args: ["--api-key=sk-live-abcdef123456", "--token", "tok-987654321"]
      env:
        - name: DB_PASSWORD
          value: hunter2hunter2
        - name: AZURE_STORAGE_CONNECTION_STRING
          value: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5;EndpointSuffix=core.windows.net"
        - name: MODEL_URL
          value: "https://acct.blob.core.windows.net/models/m.onnx?sv=2022-11-02&sig=SIGSIGSIGSIG%3D"
`

var secretValues = []string{"sk-live-abcdef123456", "tok-987654321", "hunter2hunter2", "c2VjcmV0a2V5c2VjcmV0a2V5", "SIGSIGSIGSIG"}

func leakedSecrets(text string) []string {
	var out []string
	for _, s := range secretValues {
		if strings.Contains(text, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestOfflinePlanRedactsTemplateSecrets (breakit9 G8): `plan --offline --pod-template` prints no
// credential of the template in any format — text and markdown (a person's plan, in a pipeline's
// log and summary) and yaml and json (the objects, whose stdout is as likely a pipeline's log as a
// pipe into kubectl) — on stdout or stderr, for a stage that deploys blue (Blue_0) and one that
// copies blue's template to green (Blue_Green). `--show-secrets` prints them as they are in yaml and
// json only, for a tool that applies the objects.
func TestOfflinePlanRedactsTemplateSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "model.yaml")
	if err := os.WriteFile(file, []byte(secretPod), 0o600); err != nil {
		t.Fatal(err)
	}
	images := map[string][]string{
		"Blue_0":     {"--image=acr.io/model:2", "--green-image=acr.io/model:1"},
		"Blue_Green": {"--image=acr.io/model:2", "--green-image=acr.io/model:1"},
	}
	for stage, imgs := range images {
		for _, format := range []string{"text", "markdown", "yaml", "json"} {
			t.Run(stage+" "+format, func(t *testing.T) {
				args := append([]string{"plan", stage, "--offline", "--pod-template", file, "-o", format}, imgs...)
				if format == "text" || format == "markdown" {
					args = args[:len(args)-1] // --green-image is for -o yaml|json
				}
				code, out, errs := runCLI(t, "", args...)
				if code != 0 {
					t.Fatalf("exit %d\n%s", code, errs)
				}
				if l := leakedSecrets(out + errs); len(l) > 0 {
					t.Errorf("printed %v:\n%s", l, out)
				}
				if !strings.Contains(out, "(redacted)") {
					t.Errorf("no redacted value in:\n%s", out)
				}
			})
		}
		for _, format := range []string{"yaml", "json"} {
			t.Run(stage+" "+format+" --show-secrets", func(t *testing.T) {
				args := append([]string{"plan", stage, "--offline", "--pod-template", file, "-o", format, "--show-secrets"}, imgs...)
				code, out, errs := runCLI(t, "", args...)
				if code != 0 {
					t.Fatalf("exit %d\n%s", code, errs)
				}
				if l := leakedSecrets(out); len(l) != len(secretValues) {
					t.Errorf("--show-secrets printed only %v of the credentials", l)
				}
				if l := leakedSecrets(errs); len(l) > 0 {
					t.Errorf("the summary on stderr printed %v", l)
				}
			})
		}
	}
}
