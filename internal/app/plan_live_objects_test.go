package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/manifest"
)

// kubectlBin is the pinned kubectl the manifest tests use (scripts/tool.sh).
func kubectlBin(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("scripts/tool.sh", "kubectl", "k8s.io/kubernetes/cmd/kubectl")
	cmd.Dir = "../.."
	bin, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(bin))
}

// kubectlRun runs kubectl against kc with stdin, failing the test when it fails.
func kubectlRun(t *testing.T, bin, kc, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectlTry(bin, kc, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func kubectlTry(bin, kc, stdin string, args ...string) (string, error) {
	cmd := exec.Command(bin, append([]string{"--kubeconfig", kc}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// brownfieldD0 is issue #8's hand-written D0 setup as a platform team keeps it in git: the
// VirtualService is exported only to its own namespace, the green Deployment is labelled as a
// Helm release's, and the Gateway selects the ingress gateway.
const brownfieldD0 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: model-green
  labels: {app: model, model_version: green, app.kubernetes.io/managed-by: Helm}
  annotations: {meta.helm.sh/release-name: model}
spec:
  replicas: 1
  selector: {matchLabels: {app: model, model_version: green}}
  template:
    metadata: {labels: {app: model, model_version: green}}
    spec:
      containers:
      - name: model
        image: acr.io/model:41
        ports: [{containerPort: 5001}]
---
apiVersion: v1
kind: Service
metadata: {name: model-svc-green, labels: {app: model, model_version: green}}
spec:
  selector: {app: model, model_version: green}
  ports: [{name: http, port: 5001, targetPort: 5001}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: mlmodel-gateway}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mlmodel-virtualservice}
spec:
  hosts: ["*"]
  gateways: [mlmodel-gateway]
  exportTo: ["."]
  http:
  - match:
    - uri: {prefix: /score}
      headers: {x-api-version: {exact: green}}
    route:
    - destination: {host: model-svc-green, port: {number: 5001}}
  - route:
    - destination: {host: model-svc-green, port: {number: 5001}}
      weight: 100
`

// istiodStatus is what istiod's status writer leaves on a VirtualService it has analysed.
const istiodStatus = `{"status":{"observedGeneration":1,"validationMessages":[{"type":{"code":"IST0101","name":"ReferencedResourceNotFound"},"level":"ERROR"}]}}`

// TestLivePlanObjectsAreCompleteObjects (break-it review of issue #13, F1/F2): `plan -o yaml|json`
// against a brownfield namespace printed only what mlcanary's server-side apply sends, so plain
// `kubectl apply -f -` (client-side, which diffs against last-applied-configuration) erased the
// platform team's exportTo, and refused an adopted Deployment fragment without spec.selector. The
// stream is now each object as the stage's dry run says it would be stored, without the server's
// bookkeeping. For a namespace set up by client-side `kubectl apply` and one set up server-side
// (with istiod's status on the VirtualService), for Blue_0 (a created blue, the adopted
// VirtualService) and Blue_Green (the adopted green Deployment), in YAML and JSON: no server field
// is printed; `kubectl apply --dry-run=server -f -` and `kubectl apply --server-side
// --field-manager=mlcanary --force-conflicts --dry-run=server -f -` (what the stage sends: it takes
// over the routes, as the stage does) accept the stream; and the result keeps every
// field other managers set (exportTo, the selector, pod labels, the container port, Helm's labels
// and annotation).
func TestLivePlanObjectsAreCompleteObjects(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	ctx := context.Background()
	kc := e.Kubeconfig(t)
	bin := kubectlBin(t)
	for _, setup := range []struct {
		name  string
		apply []string
	}{
		{"client-side", []string{"apply"}},
		{"server-side", []string{"apply", "--server-side", "--field-manager=kubectl"}},
	} {
		t.Run(setup.name, func(t *testing.T) {
			ns := "live-plan-" + setup.name
			if err := e.CreateNamespace(ctx, ns); err != nil {
				t.Fatal(err)
			}
			kubectlRun(t, bin, kc, brownfieldD0, append(setup.apply, "-n", ns, "-f", "-")...)
			kubectlRun(t, bin, kc, istiodStatus, "patch", "-n", ns, "virtualservice/mlmodel-virtualservice", "--subresource=status", "--type=merge", "-p", istiodStatus)
			kubectlRun(t, bin, kc, "", "rollout", "status", "-n", ns, "deployment/model-green", "--timeout=60s")
			checkLivePlan(t, bin, kc, ns, "Blue_0", "VirtualService")
			for _, s := range []string{"Blue_0", "Blue_100"} {
				if code, _, errs := runCLI(t, kc, "stage", s, "-n", ns, "--image=acr.io/model:42", "--timeout=60"); code != 0 {
					t.Fatalf("%s: exit %d\n%s", s, code, errs)
				}
			}
			checkLivePlan(t, bin, kc, ns, "Blue_Green", "Deployment")
		})
	}
}

// checkLivePlan plans stage in ns in both formats and checks the stream as
// TestLivePlanObjectsAreCompleteObjects says; want is a kind the stream must hold.
func checkLivePlan(t *testing.T, bin, kc, ns, stage, want string) {
	t.Helper()
	for _, format := range []string{"yaml", "json"} {
		code, out, errs := runCLI(t, kc, "plan", stage, "-n", ns, "--image=acr.io/model:42", "-o", format)
		if code != 0 {
			t.Fatalf("plan %s -o %s: exit %d\n%s", stage, format, code, errs)
		}
		objs, err := manifest.Parse(out)
		if err != nil {
			t.Fatalf("plan %s -o %s: %v\n%s", stage, format, err, out)
		}
		for _, f := range []string{"resourceVersion", "managedFields", "uid", "creationTimestamp", "generation", "status", "last-applied-configuration", "validationMessages"} {
			if strings.Contains(out, `"`+f+`"`) || strings.Contains(out, f+":") {
				t.Errorf("plan %s -o %s prints %s, server bookkeeping", stage, format, f)
			}
		}
		kinds := fmt.Sprint(objs)
		if !strings.Contains(kinds, want) {
			t.Errorf("plan %s -o %s holds no %s:\n%s", stage, format, want, out)
		}
		if got, err := kubectlTry(bin, kc, out, "apply", "-n", ns, "--server-side", "--field-manager=mlcanary", "--force-conflicts", "--dry-run=server", "-f", "-"); err != nil {
			t.Errorf("`plan %s -o %s | kubectl apply --server-side --field-manager=mlcanary --force-conflicts --dry-run=server -f -`: %v\n%s", stage, format, err, got)
		}
		got, err := kubectlTry(bin, kc, out, "apply", "-n", ns, "--dry-run=server", "-o", "json", "-f", "-")
		if err != nil {
			t.Fatalf("`plan %s -o %s | kubectl apply --dry-run=server -f -`: %v\n%s\nobjects:\n%s", stage, format, err, got, out)
		}
		for _, o := range decodeObjects(t, got) {
			spec, _ := o["spec"].(map[string]any)
			text := fmt.Sprint(o)
			switch o["kind"] {
			case "VirtualService":
				if spec["exportTo"] == nil {
					t.Errorf("plan %s -o %s then kubectl apply erases the VirtualService's exportTo: %v", stage, format, spec)
				}
			case "Deployment":
				tmpl, _ := spec["template"].(map[string]any)
				if spec["selector"] == nil || tmpl["metadata"] == nil || !strings.Contains(fmt.Sprint(tmpl["spec"]), "5001") {
					t.Errorf("plan %s -o %s then kubectl apply loses the Deployment's selector, pod labels or port: %v", stage, format, spec)
				}
				if meta, _ := o["metadata"].(map[string]any); meta["name"] == "model-green" && (!strings.Contains(text, "app.kubernetes.io/managed-by:Helm") || !strings.Contains(text, "meta.helm.sh/release-name:model")) {
					t.Errorf("plan %s -o %s then kubectl apply loses Helm's label or annotation: %v", stage, format, meta)
				}
			}
		}
	}
}

// decodeObjects reads kubectl's -o json: a List, or one object printed bare (after any warning
// lines kubectl printed on stderr).
func decodeObjects(t *testing.T, out string) []map[string]any {
	t.Helper()
	if i := strings.Index(out, "\n{"); i >= 0 && !strings.HasPrefix(out, "{") {
		out = out[i+1:]
	}
	var list struct {
		Kind  string           `json:"kind"`
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("kubectl output: %v\n%s", err, out)
	}
	if list.Kind == "List" {
		return list.Items
	}
	var one map[string]any
	_ = json.Unmarshal([]byte(out), &one)
	return []map[string]any{one}
}

// TestPlanDiffRedactsCredentialsInLiveObjects (break-it review of issue #13, F11): `plan` against
// the cluster prints a diff of each live object it would change, which lands in pipeline logs. It
// redacted only env values and kubectl's last-applied copy, and printed verbatim a token passed to
// the scoring container as an argument and an API key a VirtualService sets as a request header.
// Every credential form of secret.Object in the live objects of a brownfield namespace — `--k=v`
// and `--k v` arguments, an env value, a URL's password, Authorization and x-api-key headers set
// and added — is absent from `plan Blue_Green`'s output (green's Deployment and the VirtualService
// change), in text and markdown.
func TestPlanDiffRedactsCredentialsInLiveObjects(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	ctx := context.Background()
	kc := e.Kubeconfig(t)
	ns := "plan-credentials"
	if err := e.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	setup := strings.Replace(brownfieldD0, "        ports: [{containerPort: 5001}]",
		"        args: [\"--upstream-token=s3cr3t-arg-token\", \"--password\", \"s3cr3t-arg-password\", \"--store=https://u:s3cr3t-url-password@store.example.com/m\"]\n"+
			"        env: [{name: MODE, value: s3cr3t-env-value}]\n        ports: [{containerPort: 5001}]", 1)
	setup = strings.Replace(setup, "  - route:\n    - destination: {host: model-svc-green, port: {number: 5001}}\n      weight: 100",
		"  - headers: {request: {set: {Authorization: \"Bearer s3cr3t-header-token\"}, add: {x-api-key: s3cr3t-api-key}}}\n    route:\n    - destination: {host: model-svc-green, port: {number: 5001}}\n      weight: 100", 1)
	secrets := []string{"s3cr3t-arg-token", "s3cr3t-arg-password", "s3cr3t-url-password", "s3cr3t-env-value", "s3cr3t-header-token", "s3cr3t-api-key"}
	for _, s := range secrets {
		if !strings.Contains(setup, s) {
			t.Fatalf("setup not spliced: %s", s)
		}
	}
	bin := kubectlBin(t)
	kubectlRun(t, bin, kc, setup, "apply", "--server-side", "--field-manager=kubectl", "-n", ns, "-f", "-")
	kubectlRun(t, bin, kc, "", "rollout", "status", "-n", ns, "deployment/model-green", "--timeout=60s")
	for _, s := range []string{"Blue_0", "Blue_100"} {
		if code, _, errs := runCLI(t, kc, "stage", s, "-n", ns, "--image=acr.io/model:42", "--timeout=60"); code != 0 {
			t.Fatalf("%s: exit %d\n%s", s, code, errs)
		}
	}
	for _, format := range []string{"text", "markdown"} {
		code, out, errs := runCLI(t, kc, "plan", "Blue_Green", "-n", ns, "--image=acr.io/model:42", "-o", format)
		if code != 0 || !strings.Contains(out, "(redacted)") {
			t.Errorf("plan Blue_Green -o %s: exit %d, no redaction shown\nstdout:\n%s\nstderr:\n%s", format, code, out, errs)
		}
		for _, s := range secrets {
			if strings.Contains(out+errs, s) {
				t.Errorf("plan Blue_Green -o %s printed the credential %q from a live object", format, s)
			}
		}
	}
}

// TestForeignRouteRefusalNamesTheManager (break-it review of issue #13, F11): a Helm release's
// VirtualService qa-routes routes to blue; Blue_0 with a new image must replace blue's pods and
// refuses (exit 1) in one sentence, printed once, naming the route and who manages it — the Helm
// release (meta.helm.sh/release-name) and the field manager (managedFields) — so the platform
// engineer knows whom to ask.
func TestForeignRouteRefusalNamesTheManager(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	ctx := context.Background()
	kc := e.Kubeconfig(t)
	ns := "foreign-route-manager"
	if err := e.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	bin := kubectlBin(t)
	kubectlRun(t, bin, kc, brownfieldD0, "apply", "--server-side", "--field-manager=kubectl", "-n", ns, "-f", "-")
	kubectlRun(t, bin, kc, "", "rollout", "status", "-n", ns, "deployment/model-green", "--timeout=60s")
	if code, _, errs := runCLI(t, kc, "stage", "Blue_0", "-n", ns, "--image=acr.io/model:42", "--timeout=60"); code != 0 {
		t.Fatalf("Blue_0: exit %d\n%s", code, errs)
	}
	qa := `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: qa-routes
  labels: {app.kubernetes.io/managed-by: Helm}
  annotations: {meta.helm.sh/release-name: qa, meta.helm.sh/release-namespace: ` + ns + `}
spec:
  hosts: [qa.example.com]
  gateways: [mlmodel-gateway]
  http:
  - name: qa-blue
    route:
    - destination: {host: model-svc-blue, port: {number: 5001}}
`
	kubectlRun(t, bin, kc, qa, "apply", "--server-side", "--field-manager=helm", "-n", ns, "-f", "-")
	code, out, errs := runCLI(t, kc, "stage", "Blue_0", "-n", ns, "--image=acr.io/model:43", "--timeout=60")
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"route qa-blue of VirtualService " + ns + "/qa-routes is not mlcanary's",
		"; that VirtualService is managed by Helm release qa, field manager helm",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("the refusal does not say %q", want)
		}
	}
	if n := strings.Count(out+errs, "qa-routes"); n != 1 {
		t.Errorf("the refusal is printed %d times", n)
	}
}
