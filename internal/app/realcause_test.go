package app

// Regression tests for issue #14 ("every failure names its real cause"): each case was a fault a
// break-it review found (a cause misnamed, a misleading next step, a line that hid what changed).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/testenv"
)

var (
	b14Policies = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}
	b14Bindings = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"}
)

// denyServices installs a ValidatingAdmissionPolicy bound to ns that denies every Service create or
// update with message (a cluster owner writes the message; it is not mlcanary's input), and waits
// until the API server enforces it.
func denyServices(t *testing.T, e *testenv.Env, ns, name, message string) {
	t.Helper()
	denyServicesReason(t, e, ns, name, message, "Forbidden")
}

func denyServicesReason(t *testing.T, e *testenv.Env, ns, name, message, reason string) {
	t.Helper()
	ctx := context.Background()
	policy := map[string]any{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{"failurePolicy": "Fail",
			"matchConstraints": map[string]any{"resourceRules": []any{map[string]any{
				"apiGroups": []any{""}, "apiVersions": []any{"v1"}, "operations": []any{"CREATE", "UPDATE"}, "resources": []any{"services"}}}},
			"validations": []any{map[string]any{"expression": "false", "message": message, "reason": reason}}}}
	binding := map[string]any{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{"policyName": name, "validationActions": []any{"Deny"},
			"matchResources": map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": ns}}}}}
	for _, o := range []struct {
		gvr schema.GroupVersionResource
		obj map[string]any
	}{{b14Policies, policy}, {b14Bindings, binding}} {
		_, err := e.Dynamic.Resource(o.gvr).Create(ctx, &unstructured.Unstructured{Object: o.obj}, metav1.CreateOptions{})
		check(t, err)
	}
	probe := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "probe", "namespace": ns},
		"spec":     map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}}}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := e.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "services"}).Namespace(ns).
			Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), "ValidatingAdmissionPolicy") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("policy %s not enforced: %v", name, err)
		}
	}
}

// runCLIEnv runs the command line with env (KUBECONFIG and whatever a CI system sets).
func runCLIEnv(env map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args,
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return code, out.String(), errb.String()
}

func TestCauseFrontEnds(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	ctx := context.Background()
	admin := e.Kubeconfig(t)
	n := 0
	namespace := func(t *testing.T) string {
		n++
		ns := fmt.Sprintf("realcause-%d", n)
		check(t, e.CreateNamespace(ctx, ns))
		return ns
	}

	// The CLI run in an Azure Pipelines script step (TF_BUILD=true, with arguments: the CLI front
	// end, as README's "Command line" allows): the agent runs "##vso[" anywhere in a line of stdout
	// or stderr. A cluster owner's policy message is relayed raw, so it can set pipeline variables
	// (here a gate variable) — the task front end neutralises the same text (azdo.Neutralise).
	t.Run("CLI in an Azure Pipelines step relays a policy's ##vso command", func(t *testing.T) {
		ns := namespace(t)
		denyServices(t, e, ns, "vso-"+ns, "##vso[task.setvariable variable=approved]true")
		code, _, errs := runCLIEnv(map[string]string{"KUBECONFIG": admin, "TF_BUILD": "True"},
			"stage", "Blue_0", "-n", ns, "--image="+causeImage, "--timeout=30")
		t.Logf("exit %d: %s", code, errs)
		if code != ExitFailed || strings.Contains(errs, "##vso[") {
			t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and no live \"##vso[\" (a logging command the agent would run)", code, errs)
		}
	})

	// status and plan hit the same causes: they must explain them the same way.
	t.Run("status with a rejected credential", func(t *testing.T) {
		ns := namespace(t)
		kc := testenv.WriteKubeconfig(t, &rest.Config{Host: e.Config.Host, BearerToken: "not-a-valid-token", TLSClientConfig: rest.TLSClientConfig{CAData: e.Config.CAData}})
		code, _, errs := runCLIEnv(map[string]string{"KUBECONFIG": kc}, "status", "-n", ns)
		if code != ExitFailed || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "rejected the credentials (401 Unauthorized)") {
			t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and one line naming the rejected credentials", code, errs)
		}
	})
	t.Run("status without get on VirtualServices", func(t *testing.T) {
		ns := namespace(t)
		check(t, e.GrantRole(ctx, ns, "noget-"+ns, testenv.RulesWithout("virtualservices", "get")))
		rc, err := e.UserConfig("noget-" + ns)
		check(t, err)
		code, _, errs := runCLIEnv(map[string]string{"KUBECONFIG": testenv.WriteKubeconfig(t, rc)}, "status", "-n", ns)
		if code != ExitFailed || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "RBAC does not allow user") {
			t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and one line naming RBAC", code, errs)
		}
	})
	t.Run("plan refused by a policy on Services", func(t *testing.T) {
		ns := namespace(t)
		denyServices(t, e, ns, "svc-"+ns, "Services need the label team")
		code, _, errs := runCLIEnv(map[string]string{"KUBECONFIG": admin}, "plan", "Blue_0", "-n", ns, "--image="+causeImage)
		if code != ExitFailed || strings.Count(errs, "mlcanary: ") != 1 || !strings.Contains(errs, "ValidatingAdmissionPolicy \"svc-"+ns) ||
			!strings.Contains(errs, "not a permission problem") || !strings.HasSuffix(errs, "nothing was changed (dry run)\n") {
			t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and one line naming the policy, ending \"nothing was changed (dry run)\"", code, errs)
		}
	})
}

// A server address with a user and password (basic auth in the URL) or a proxy-url with them:
// "Server addresses are shown without user or password".
func TestCausePasswordInServerURLNotPrinted(t *testing.T) {
	dir := t.TempDir()
	kc := dir + "/kubeconfig"
	check(t, os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://admin:S3cretPw@127.0.0.1:1
    proxy-url: http://proxyuser:Pr0xyPw@127.0.0.1:2
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
users:
- name: u
  user: {token: T0kenValue}
`), 0o600))
	for _, args := range [][]string{{"stage", "Blue_0", "-n", "ns", "--image=" + causeImage}, {"status", "-n", "ns"}, {"plan", "Blue_0", "-n", "ns", "--image=" + causeImage}} {
		code, out, errs := runCLIEnv(map[string]string{"KUBECONFIG": kc}, args...)
		for _, secret := range []string{"S3cretPw", "Pr0xyPw", "T0kenValue"} {
			if strings.Contains(out+errs, secret) {
				t.Errorf("%v: exit %d, the output holds %q:\n%s%s", args, code, secret, out, errs)
			}
		}
		t.Logf("%v: exit %d: %s", args, code, errs)
	}
}

// A namespace-scoped Role (README: "a Role there is enough") and a typo in the namespace: RBAC
// answers 403 before anyone looks for the namespace, and the line asks for verbs "in namespace
// <typo> (a Role there is enough)" — a Role that cannot be created in a namespace that does not
// exist. The line should say the namespace may be wrong (RBAC hides whether it exists).
func TestCauseTypoNamespaceWithARoleIsNotOnlyRBAC(t *testing.T) {
	e := shared.Env(t)
	ctx := context.Background()
	check(t, e.CreateNamespace(ctx, "scoring")) // TestCLIAgainstCluster has abtesting on the shared server
	check(t, e.GrantRole(ctx, "scoring", "typo-pipeline", testenv.RulesWithout("", "")))
	rc, err := e.UserConfig("typo-pipeline")
	check(t, err)
	code, _, errs := runCLIEnv(map[string]string{"KUBECONFIG": testenv.WriteKubeconfig(t, rc)}, "stage", "Blue_0", "-n", "scorin", "--image="+causeImage)
	t.Logf("exit %d: %s", code, errs)
	if code != ExitFailed || !strings.Contains(errs, "does not exist") && !strings.Contains(errs, "check the namespace") {
		t.Fatalf("exit %d, stderr:\n%s\nwant the line to say namespace \"scorin\" may not exist (check its name), not only to grant verbs there", code, errs)
	}
}

// Gatekeeper/Kyverno is down: a ValidatingWebhookConfiguration with failurePolicy Fail whose
// service does not answer. kube-apiserver refuses the write itself (500, "failed calling webhook").
func TestCauseWebhookDown(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	ctx := context.Background()
	ns := "webhook-down"
	check(t, e.CreateNamespace(ctx, ns))
	vwc := map[string]any{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
		"metadata": map[string]any{"name": "gatekeeper-validating-webhook-configuration"},
		"webhooks": []any{map[string]any{"name": "validation.gatekeeper.sh", "failurePolicy": "Fail", "sideEffects": "None",
			"admissionReviewVersions": []any{"v1"}, "timeoutSeconds": int64(2),
			"clientConfig":      map[string]any{"url": "https://127.0.0.1:1/v1/admit"},
			"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": ns}},
			"rules":             []any{map[string]any{"apiGroups": []any{"*"}, "apiVersions": []any{"*"}, "operations": []any{"CREATE", "UPDATE"}, "resources": []any{"*"}}}}}}
	webhooks := e.Dynamic.Resource(schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"})
	_, err := webhooks.Create(ctx, &unstructured.Unstructured{Object: vwc}, metav1.CreateOptions{})
	check(t, err)
	// The package's tests share the API server: with the webhook left in place, later tests' writes
	// in other namespaces failed calling it too.
	t.Cleanup(func() {
		check(t, webhooks.Delete(context.Background(), "gatekeeper-validating-webhook-configuration", metav1.DeleteOptions{}))
		time.Sleep(2 * time.Second) // the admission plugin sees the deletion through an informer
	})
	time.Sleep(2 * time.Second) // the webhook reaches the admission plugin through an informer
	code, _, errs := runCLIEnv(map[string]string{"KUBECONFIG": e.Kubeconfig(t)}, "stage", "Blue_0", "-n", ns, "--image="+causeImage, "--timeout=30")
	t.Logf("exit %d: %s", code, errs)
	if code != ExitFailed || strings.Count(errs, "mlcanary: ") != 1 || !strings.Contains(errs, `admission webhook "validation.gatekeeper.sh" could not be called`) || strings.Contains(errs, "credentials need") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and one line naming the webhook that could not be called", code, errs)
	}
}

// A policy may answer with reason Invalid (422) or RequestEntityTooLarge (413)
// instead of Forbidden; the cause is still the policy.
func TestCausePolicyReasons(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	ctx := context.Background()
	admin := e.Kubeconfig(t)
	for i, reason := range []string{"Invalid", "RequestEntityTooLarge"} { // Unauthorized: the API refuses it in a policy
		t.Run(reason, func(t *testing.T) {
			ns := fmt.Sprintf("reason-%d", i)
			check(t, e.CreateNamespace(ctx, ns))
			denyServicesReason(t, e, ns, "r-"+ns, "Services need the label team", reason)
			code, _, errs := runCLIEnv(map[string]string{"KUBECONFIG": admin}, "stage", "Blue_0", "-n", ns, "--image="+causeImage, "--timeout=30")
			t.Logf("exit %d: %s", code, errs)
			if code != ExitFailed || strings.Count(errs, "mlcanary: ") != 1 || !strings.Contains(errs, `ValidatingAdmissionPolicy "r-`+ns) || !strings.Contains(errs, "not a permission problem") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and one line naming the policy", code, errs)
			}
		})
	}
}

// verify reads the routing from the cluster first: a rejected credential there is explained, but
// the next step says "then run the stage again" to a user who ran verify (status likewise): no
// stage ran. (Low: wording.)
func TestCauseVerifyRejectedCredential(t *testing.T) {
	e := shared.Env(t)
	kc := testenv.WriteKubeconfig(t, &rest.Config{Host: e.Config.Host, BearerToken: "not-a-valid-token", TLSClientConfig: rest.TLSClientConfig{CAData: e.Config.CAData}})
	code, _, errs := runCLIEnv(map[string]string{"KUBECONFIG": kc}, "verify", "--gateway", "http://127.0.0.1:1", "-n", "abtesting")
	t.Logf("exit %d: %s", code, errs)
	if code != ExitFailed || strings.Count(errs, "mlcanary: ") != 1 || !strings.Contains(errs, "rejected the credentials (401 Unauthorized)") || strings.Contains(errs, "run the stage again") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and one line naming the rejected credentials, whose next step is not \"run the stage again\" (verify ran, not a stage)", code, errs)
	}
}

// A kubeconfig that parses but cannot be used (its current context is missing, its cluster has no
// server, its certificate-authority-data is no certificate, its client certificate file is gone) is
// bad input like a kubeconfig that does not parse (which exits 2 naming the input): nothing can be
// sent. Today these exit 1 — "a failed stage" — with the client library's words and no next step.
func TestCauseUnusableKubeconfigIsBadInput(t *testing.T) {
	for name, body := range map[string]string{
		"missing current context":         "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters: []\ncontexts: []\nusers: []\n",
		"cluster without server":          "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: T0kenValue}\n",
		"CA data not a certificate":       "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: bm90LWEtY2VydA==}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: T0kenValue}\n",
		"client certificate file missing": "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {client-certificate: /nonexistent/cert.pem, client-key: /nonexistent/key.pem}\n",
	} {
		t.Run(name, func(t *testing.T) {
			kc := t.TempDir() + "/kubeconfig"
			check(t, os.WriteFile(kc, []byte(body), 0o600))
			code, _, errs := runCLIEnv(map[string]string{}, "stage", "Blue_0", "-n", "ns", "--image="+causeImage, "--kubeconfig", kc)
			t.Logf("exit %d: %s", code, errs)
			if code != ExitInvalid || !strings.Contains(errs, "invalid kubeconfig") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and one line naming the kubeconfig input and what is wrong with it", code, errs)
			}
		})
	}
}
