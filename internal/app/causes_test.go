package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// refusal is one cause a cluster refuses a stage for, set up in its own namespace: setup returns
// the credentials the stage runs with (nil: admin) and may move the stage to another namespace.
type refusal struct {
	name  string
	stage string
	setup func(t *testing.T, e *testenv.Env, ns *string) *rest.Config
	want  string // the whole line; %s is the namespace, %h the API server's address
}

const causeImage = "myacr.azurecr.io/model:7"

var refusals = []refusal{
	{"admission policy", "Blue_0", func(t *testing.T, e *testenv.Env, ns *string) *rest.Config {
		check(t, e.RequireMemoryLimits(context.Background(), *ns))
		return nil
	}, `Blue_0 did not complete: applying Deployment %s/model-blue: ValidatingAdmissionPolicy "require-memory-limit-%s" (binding "require-memory-limit-%s") denied it: every container needs resources.limits.memory; this is the cluster's admission policy, not a permission problem: change what the policy asks for (or ask its owner for an exception), then run the stage again; already changed: Service %s/model-svc-blue created`},
	{"quota", "Blue_0", func(t *testing.T, e *testenv.Env, ns *string) *rest.Config {
		check(t, e.ExhaustDeploymentQuota(context.Background(), *ns))
		return nil
	}, `Blue_0 did not complete: applying Deployment %s/model-blue: ResourceQuota "deployments" of namespace "%s" refused it: exceeded quota: deployments, requested: count/deployments.apps=1, used: count/deployments.apps=0, limited: count/deployments.apps=0; free room in the namespace or ask for a larger quota (kubectl describe resourcequota -n %s), then run the stage again; already changed: Service %s/model-svc-blue created`},
	{"RBAC without patch", "Blue_0", func(t *testing.T, e *testenv.Env, ns *string) *rest.Config {
		check(t, e.GrantRole(context.Background(), *ns, "nopatch-"+*ns, testenv.RulesWithout("deployments", "patch")))
		rc, err := e.UserConfig("nopatch-" + *ns)
		check(t, err)
		return rc
	}, `Blue_0 did not complete: applying Deployment %s/model-blue: RBAC does not allow user "nopatch-%s" to patch deployments.apps in namespace "%s"; the credentials need get, list, create, patch and delete on Deployments, Services, Gateways and VirtualServices and get, create and update on Leases (coordination.k8s.io, the namespace's lock) in namespace "%s" (a Role there is enough), and get on the namespace; already changed: Service %s/model-svc-blue created`},
	{"conflict", "Blue_50", func(t *testing.T, e *testenv.Env, ns *string) *rest.Config {
		if code, _, errs := runCLI(t, e.Kubeconfig(t), "stage", "Blue_0", "-n", *ns, "--image="+causeImage, "--timeout=30"); code != ExitOK {
			t.Fatalf("Blue_0: %s", errs)
		}
		return e.RaceVirtualService(t, *ns, "mlmodel-virtualservice")
	}, `Blue_50 did not complete: VirtualService %s/mlmodel-virtualservice was changed by someone else while this stage ran (its spec changed: generation 1 → 2; another pipeline run?); run the stage again to decide from the new state; nothing was changed`},
	{"namespace terminating", "Blue_0", func(t *testing.T, e *testenv.Env, ns *string) *rest.Config {
		check(t, e.TerminateNamespace(context.Background(), *ns))
		return nil
	}, `Blue_0: creating Lease %s/mlcanary (the namespace's lock): namespace "%s" is being deleted, so nothing new can be created in it; wait until it is gone and create it again (or use another namespace), then run the stage again; if it stays Terminating, look at what holds it: kubectl get namespace %s -o yaml`},
	{"incompatible selector", "Blue_0", func(t *testing.T, e *testenv.Env, ns *string) *rest.Config {
		d := blueDeployment(t, *ns)
		for _, path := range [][]string{{"spec", "selector", "matchLabels"}, {"spec", "template", "metadata", "labels"}} {
			check(t, unstructured.SetNestedStringMap(d.Object, map[string]string{"app": "someone-elses"}, path...))
		}
		_, err := e.Dynamic.Resource(kube.Deployments).Namespace(*ns).Create(context.Background(), d, metav1.CreateOptions{})
		check(t, err)
		return nil
		// Issue #8 kind 7: the immutable selector is checked before the first write, not met mid-stage.
	}, `Blue_0: Deployment %s/model-blue: spec.selector is app=someone-elses, but this stage writes it with pods labelled app=model,model_version=blue (--app model) and a Deployment's selector cannot be changed; delete the Deployment so that mlcanary creates it again, or run with the --app it was created with`},
	{"object being deleted", "Blue_0", func(t *testing.T, e *testenv.Env, ns *string) *rest.Config {
		check(t, e.CreateBeingDeleted(context.Background(), kube.Deployments, blueDeployment(t, *ns)))
		return nil
		// Refused before any write (break-it review of issue #13, F3): a version being deleted counts as absent.
	}, `Blue_0: the stage needs blue, but Deployment %s/model-blue is being deleted (since %t, waiting for finalizers mlcanary.test/hold); mlcanary routes nothing to an object being deleted, so traffic stays where it is; wait until it is gone (or remove its finalizers), then run Blue_0 again`},
	{"namespace missing", "Blue_0", func(t *testing.T, e *testenv.Env, ns *string) *rest.Config {
		*ns += "-gone"
		rc, err := e.ClusterWriter(context.Background())
		check(t, err)
		return rc
	}, `Blue_0: creating Lease %s/mlcanary (the namespace's lock): namespace "%s" does not exist; create it first (kubectl create namespace %s, labelled istio-injection=enabled for the sidecars)`},
	{"rejected credential", "Blue_0", func(_ *testing.T, e *testenv.Env, _ *string) *rest.Config {
		return &rest.Config{Host: e.Config.Host, BearerToken: "not-a-valid-token", TLSClientConfig: rest.TLSClientConfig{CAData: e.Config.CAData}}
	}, `Blue_0: reading Lease %s/mlcanary (the namespace's lock): the API server at %h rejected the credentials (401 Unauthorized); the token has expired or was revoked, or the client certificate is not trusted: renew the kubeconfig or service connection, then run the stage again`},
	{"unreachable", "Blue_0", func(*testing.T, *testenv.Env, *string) *rest.Config {
		return &rest.Config{Host: "https://127.0.0.1:1"}
	}, `Blue_0: reading Lease %s/mlcanary (the namespace's lock): cannot reach the API server at https://127.0.0.1:1 (dial tcp 127.0.0.1:1: connect: connection refused); check the server address in the kubeconfig or service connection and that the cluster is running and reachable from this machine (network, firewall, private cluster), then run the stage again`},
}

// line is the expected line for ns on e; a deletion time (%t) matches any.
func (r refusal) line(e *testenv.Env, ns string) string {
	return strings.NewReplacer("%s", ns, "%h", e.Config.Host).Replace(r.want)
}

func (r refusal) matches(e *testenv.Env, ns, got string) bool {
	before, after, found := strings.Cut(r.line(e, ns), "%t")
	if !found {
		return got == before
	}
	return strings.HasPrefix(got, before) && strings.HasSuffix(got, after) && len(got) == len(before)+len("2026-11-29T11:06:22Z")+len(after)
}

// blueDeployment is blue's Deployment as mlcanary writes it, created by someone else.
func blueDeployment(t *testing.T, ns string) *unstructured.Unstructured {
	c := config.Default()
	c.Namespace = ns
	d, err := render.Unstructured(render.Deployment(&c, config.Blue, nil, "someone/else:1"))
	check(t, err)
	return d
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runCLI runs the command line with KUBECONFIG set.
func runCLI(t *testing.T, kubeconfig string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := func(k string) (string, bool) { return kubeconfig, k == "KUBECONFIG" }
	code := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args, env)
	return code, out.String(), errb.String()
}

// TestRefusalsInEveryFrontEnd drives one real API server into each cause of a refusal and checks
// the CLI prints exactly the expected line once and exits 1; the Azure DevOps task (through its
// launcher, as the agent runs it) and the GitHub Action print the same line for the admission
// policy and for RBAC.
func TestRefusalsInEveryFrontEnd(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	ctx := context.Background()
	admin := e.Kubeconfig(t)
	n := 0
	namespace := func(t *testing.T) string {
		n++
		ns := fmt.Sprintf("refused-%d", n)
		check(t, e.CreateNamespace(ctx, ns))
		return ns
	}
	for _, r := range refusals {
		t.Run("CLI "+r.name, func(t *testing.T) {
			ns := namespace(t)
			kubeconfig := admin
			if rc := r.setup(t, e, &ns); rc != nil {
				kubeconfig = testenv.WriteKubeconfig(t, rc)
			}
			code, _, errs := runCLI(t, kubeconfig, "stage", r.stage, "-n", ns, "--image="+causeImage, "--timeout=30")
			// Progress lines come first; the error is the last line, printed once.
			lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			got, ok := strings.CutPrefix(lines[len(lines)-1], "mlcanary: ")
			if code != ExitFailed || !ok || !strings.HasSuffix(errs, "\n") || strings.Count(errs, "mlcanary: ") != 1 || !r.matches(e, ns, got) {
				t.Errorf("exit %d, stderr\n%s\nwant exit 1 and the one line\nmlcanary: %s", code, errs, r.line(e, ns))
			}
		})
	}
	kubeconfig, err := os.ReadFile(admin)
	check(t, err)
	task := launcher(t)
	org := azdotest.Start(t)
	for _, r := range []refusal{refusals[0], refusals[2]} {
		t.Run("Azure DevOps "+r.name, func(t *testing.T) {
			ns := namespace(t)
			kc := kubeconfig
			if rc := r.setup(t, e, &ns); rc != nil {
				kc, err = os.ReadFile(testenv.WriteKubeconfig(t, rc))
				check(t, err)
			}
			env := jobEnv(t, org)
			for k, v := range map[string]string{
				"INPUT_KUBERNETESSERVICECONNECTION": k8sConn, "INPUT_STAGE": r.stage, "INPUT_NAMESPACE": ns, "INPUT_TIMEOUT": "30",
				"INPUT_IMAGE": causeImage, "ENDPOINT_URL_" + k8sConn: e.Config.Host,
				"ENDPOINT_DATA_" + k8sConn + "_AUTHORIZATIONTYPE": "Kubeconfig", "ENDPOINT_AUTH_PARAMETER_" + k8sConn + "_KUBECONFIG": string(kc),
			} {
				env[k] = v
			}
			run := runTask(t, task, env)
			issues, done := run.find("task.logissue"), run.find("task.complete")
			if run.code != ExitFailed || len(issues) != 1 || len(done) != 1 || !r.matches(e, ns, issues[0].data) || done[0].data != issues[0].data || done[0].props["result"] != "Failed" {
				t.Errorf("exit %d, issues %+v, complete %+v\nwant exit 1, one error and a Failed completion with\n%s\n%s", run.code, issues, done, r.line(e, ns), run.stdout)
			}
			key := clientKeyOf(t, kc)
			run.checkSecrets(t, []string{key}, []string{key})
		})
		t.Run("GitHub "+r.name, func(t *testing.T) {
			ns := namespace(t)
			kc := kubeconfig
			if rc := r.setup(t, e, &ns); rc != nil {
				kc, err = os.ReadFile(testenv.WriteKubeconfig(t, rc))
				check(t, err)
			}
			dir := t.TempDir()
			env := map[string]string{
				"GITHUB_ACTIONS": "true", "HOME": dir, "INPUT_STAGE": r.stage, "INPUT_NAMESPACE": ns, "INPUT_IMAGE": causeImage,
				"INPUT_KUBECONFIG": string(kc), "INPUT_TIMEOUT": "30",
				"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
			}
			var out, errOut bytes.Buffer
			code := Run(ctx, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, []string{"github-action"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			var annotations []string
			for _, l := range strings.Split(out.String(), "\n") {
				if a, ok := strings.CutPrefix(l, "::error title=mlcanary::"); ok {
					annotations = append(annotations, a)
				}
			}
			if code != ExitFailed || len(annotations) != 1 || !r.matches(e, ns, annotations[0]) || strings.Count(out.String(), "::error") != 1 {
				t.Errorf("exit %d, annotations %q\nwant exit 1 and one annotation\n%s\n%s", code, annotations, r.line(e, ns), out.String())
			}
			sum, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
			check(t, err)
			checkMasked(t, out.String(), string(sum), clientKeyOf(t, kc))
		})
	}
}
