package manifest_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/manifest"
)

// stages is every stage a user may type, with two Blue_N besides the documented one.
var stages = []string{"Blue_0", "Blue_1", "Blue_50", "Blue_99", "Blue_100", "Blue_Green", "Green_100", "Rollback"}

// variants are flag sets whose objects differ in shape: the documented defaults, a Gateway of
// another namespace (no Gateway object), and every object flag changed.
var variants = map[string][]string{
	"documented":       {"--image=acr.io/model:42", "--green-image=acr.io/model:41"},
	"existing gateway": {"--image=acr.io/model:42", "--green-image=acr.io/model:41", "--gateway=istio-system/public-gateway", "--hosts=model.example.com"},
	"every flag": {"--image-repo=acr.io/team/model", "--green-image=acr.io/team/model:6", "--image-tag=7@sha256:" + strings.Repeat("ab", 32),
		"--app=scorer", "--green-deployment=g", "--blue-deployment=b", "--green-service=g-svc", "--blue-service=b-svc",
		"--gateway=gw", "--virtual-service=vs", "--gateway-selector=istio=custom", "--hosts=a.example.com,b.example.com",
		"--gateway-port=8443", "--port=8080", "--replicas=3", "--image-pull-secret=regcred", "--header=x-model",
		"--uri-prefix=/v2/score"},
}

// plan runs `mlcanary plan STAGE --offline -n ns -o format` in process and returns its stdout,
// failing the test when it exits non-zero.
func plan(t *testing.T, ns, stage, format string, flags []string) string {
	t.Helper()
	return cli(t, "", append([]string{"plan", stage, "--offline", "-n", ns, "-o", format}, flags...)...)
}

// cli runs mlcanary with args in process, KUBECONFIG set to kubeconfig, and returns its stdout,
// failing the test when it exits non-zero.
func cli(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	streams := app.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}
	if code := app.Run(context.Background(), streams, args, func(k string) (string, bool) { return kubeconfig, k == "KUBECONFIG" }); code != 0 {
		t.Fatalf("mlcanary %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// TestPlanOutputAcceptedByKubectlAndKubeconform pipes the -o yaml and -o json output of every
// stage's offline plan, in every variant, into `kubectl apply --dry-run=server -f -` (kubectl
// v1.37.2, the API server's version; strict field validation, Istio's CRDs installed) and into
// `kubeconform -strict` with schemas generated from that API server's own OpenAPI v3. Each must
// accept every object, and kubectl must report one server dry run per object.
func TestPlanOutputAcceptedByKubectlAndKubeconform(t *testing.T) {
	kubectl := tool(t, "kubectl", "MLCANARY_KUBECTL", "k8s.io/kubernetes/cmd/kubectl")
	kubeconform := tool(t, "kubeconform", "MLCANARY_KUBECONFORM", "github.com/yannh/kubeconform/cmd/kubeconform")
	const ns = "manifests"
	e := serverWith(t, ns)
	kubeconfig := e.Kubeconfig(t)
	schemas := t.TempDir()
	n, err := writeSchemas(e.Config, schemas, "api/v1", "apis/apps/v1", "apis/networking.istio.io/v1")
	if err != nil || n == 0 {
		t.Fatalf("writing schemas from the API server's OpenAPI v3: %d written, %v", n, err)
	}
	location := filepath.Join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json")
	for name, flags := range variants {
		for _, stage := range stages {
			for _, format := range []string{"yaml", "json"} {
				t.Run(name+"/"+stage+"/"+format, func(t *testing.T) {
					out := plan(t, ns, stage, format, flags)
					objs, err := manifest.Parse(out)
					if err != nil || len(objs) == 0 {
						t.Fatalf("plan -o %s is not a stream of objects (%d, %v):\n%s", format, len(objs), err, out)
					}
					if format == "json" && !strings.Contains(out, `"kind": "List"`) {
						t.Fatalf("plan -o json is not a List:\n%s", out)
					}
					got := run(t, out, kubectl, "--kubeconfig", kubeconfig, "apply", "--dry-run=server", "-f", "-")
					if c := strings.Count(got, "(server dry run)"); c != len(objs) {
						t.Errorf("kubectl dry-ran %d objects, the plan has %d:\n%s", c, len(objs), got)
					}
					got = run(t, out, kubeconform, "-strict", "-summary", "-schema-location", location, "-")
					if want := fmt.Sprintf("Valid: %d, Invalid: 0, Errors: 0, Skipped: 0", len(objs)); !strings.Contains(got, want) {
						t.Errorf("kubeconform: want %q:\n%s", want, got)
					}
				})
			}
		}
	}
}

// TestClusterPlanOutputAcceptedByKubectl: a plan against the cluster (server-side dry runs) writes
// with -o yaml|json the bodies its dry runs sent, which kubectl applies as a server dry run too: a
// first release's Blue_0 on an empty namespace.
func TestClusterPlanOutputAcceptedByKubectl(t *testing.T) {
	kubectl := tool(t, "kubectl", "MLCANARY_KUBECTL", "k8s.io/kubernetes/cmd/kubectl")
	const ns = "cluster-plan"
	e := serverWith(t, ns)
	kubeconfig := e.Kubeconfig(t)
	for _, format := range []string{"yaml", "json"} {
		out := cli(t, kubeconfig, "plan", "Blue_0", "-n", ns, "--image=acr.io/model:42", "-o", format)
		objs, err := manifest.Parse(out)
		if err != nil || len(objs) != 4 { // blue's Service and Deployment, the Gateway, the VirtualService
			t.Fatalf("plan -o %s against the cluster: %d objects, %v:\n%s", format, len(objs), err, out)
		}
		got := run(t, out, kubectl, "--kubeconfig", kubeconfig, "apply", "--dry-run=server", "-f", "-")
		if c := strings.Count(got, "created (server dry run)"); c != len(objs) {
			t.Errorf("kubectl dry-ran %d creates, the plan has %d objects:\n%s", c, len(objs), got)
		}
	}
}

// TestToolsRefuseAnUnknownField is the control for the test above: the same kubectl and
// kubeconform with the same schemas refuse an object with a field the API does not know, in a
// core kind and in an Istio kind, so their acceptance of the plan's objects means something.
func TestToolsRefuseAnUnknownField(t *testing.T) {
	kubectl := tool(t, "kubectl", "MLCANARY_KUBECTL", "k8s.io/kubernetes/cmd/kubectl")
	kubeconform := tool(t, "kubeconform", "MLCANARY_KUBECONFORM", "github.com/yannh/kubeconform/cmd/kubeconform")
	const ns = "unknown-field"
	e := serverWith(t, ns)
	schemas := t.TempDir()
	if _, err := writeSchemas(e.Config, schemas, "api/v1", "apis/apps/v1", "apis/networking.istio.io/v1"); err != nil {
		t.Fatal(err)
	}
	location := filepath.Join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json")
	good := plan(t, ns, "Blue_0", "yaml", variants["documented"])
	for what, bad := range map[string]string{
		"Deployment":     strings.Replace(good, "  replicas: 1\n", "  replicas: 1\n  replicaz: 2\n", 1),
		"VirtualService": strings.Replace(good, "  gateways:\n", "  gatewayz: [x]\n  gateways:\n", 1),
		"type":           strings.Replace(good, "  replicas: 1\n", "  replicas: one\n", 1),
	} {
		t.Run(what, func(t *testing.T) {
			if bad == good {
				t.Fatal("the control did not change the plan's output")
			}
			if out, err := execTool(kubectl, bad, "--kubeconfig", e.Kubeconfig(t), "apply", "--dry-run=server", "-f", "-"); err == nil {
				t.Errorf("kubectl accepted it:\n%s", out)
			}
			if out, err := execTool(kubeconform, bad, "-strict", "-schema-location", location, "-"); err == nil {
				t.Errorf("kubeconform accepted it:\n%s", out)
			}
		})
	}
}

// brownfieldD0 is issue #8's hand-written green-only setup, applied server-side as "kubectl".
const brownfieldD0 = `apiVersion: apps/v1
kind: Deployment
metadata: {name: model-green, labels: {app: model, model_version: green}}
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

// TestBrownfieldClusterPlanOutputAcceptedByKubeconform (break-it review of issue #13, F1/F2): on a
// brownfield namespace the stage sends, for an adopted Deployment, only what mlcanary owns (the
// scoring container's name and image, replicas), and `plan Blue_Green -o yaml|json` printed that
// fragment, without spec.selector or spec.template.metadata, which kubeconform -strict rejects
// against the API server's own schema. The plan now prints each object as its dry run says it
// would be stored (without the server's bookkeeping): Invalid: 0, for Blue_0 (the adopted
// VirtualService, a created blue) and Blue_Green (the adopted green), in both formats.
func TestBrownfieldClusterPlanOutputAcceptedByKubeconform(t *testing.T) {
	kubectl := tool(t, "kubectl", "MLCANARY_KUBECTL", "k8s.io/kubernetes/cmd/kubectl")
	kubeconform := tool(t, "kubeconform", "MLCANARY_KUBECONFORM", "github.com/yannh/kubeconform/cmd/kubeconform")
	const ns = "brownfield"
	e := serverWith(t, ns)
	e.StartController(t)
	kubeconfig := e.Kubeconfig(t)
	run(t, brownfieldD0, kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "--field-manager=kubectl", "-n", ns, "-f", "-")
	run(t, "", kubectl, "--kubeconfig", kubeconfig, "rollout", "status", "-n", ns, "deployment/model-green", "--timeout=60s")
	schemas := t.TempDir()
	if n, err := writeSchemas(e.Config, schemas, "api/v1", "apis/apps/v1", "apis/networking.istio.io/v1"); err != nil || n == 0 {
		t.Fatalf("writing schemas: %d, %v", n, err)
	}
	location := filepath.Join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json")
	for _, stage := range []string{"Blue_0", "Blue_Green"} {
		if stage == "Blue_Green" {
			cli(t, kubeconfig, "stage", "Blue_0", "-n", ns, "--image=acr.io/model:42", "--timeout=60")
			cli(t, kubeconfig, "stage", "Blue_100", "-n", ns, "--image=acr.io/model:42", "--timeout=60")
		}
		for _, format := range []string{"yaml", "json"} {
			out := cli(t, kubeconfig, "plan", stage, "-n", ns, "--image=acr.io/model:42", "-o", format)
			objs, err := manifest.Parse(out)
			if err != nil || len(objs) == 0 {
				t.Fatalf("plan %s -o %s: %d objects, %v\n%s", stage, format, len(objs), err, out)
			}
			got, _ := execTool(kubeconform, out, "-strict", "-summary", "-schema-location", location, "-")
			if want := "Invalid: 0, Errors: 0"; !strings.Contains(got, want) {
				t.Errorf("kubeconform -strict on `plan %s -o %s` of a brownfield namespace: want %q:\n%s\nobjects:\n%s", stage, format, want, got, out)
			}
		}
	}
}
