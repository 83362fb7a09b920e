package engine_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// client is an engine client for rc that checks the same safety rules as the fixture's own.
func (f *fixture) client(rc *rest.Config) *engine.Client {
	f.t.Helper()
	rc = rest.CopyConfig(rc)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { f.rec.next = keepIstioWrites(f.t, rt); return f.rec })
	cl, err := engine.NewClient(rc)
	if err != nil {
		f.t.Fatal(err)
	}
	cl.PollInterval, cl.Drain = 20*time.Millisecond, 30*time.Millisecond
	return cl
}

// TestRefusalsNameTheirCause drives the real API server into each cause of a refusal a cluster can
// give a stage, and checks that the error carries that cause (kube.CauseOf), names it in one line,
// ends with what the stage had already changed, and left traffic only on ready versions.
func TestRefusalsNameTheirCause(t *testing.T) {
	shared.Env(t) // the table reads env
	ctx := context.Background()
	tests := []struct {
		name  string
		from  []string // the state the namespace is brought to first
		stage string
		// setup prepares the refusal and returns the credentials the stage runs with (nil: admin).
		setup   func(t *testing.T, f *fixture, c *config.Config) *rest.Config
		cause   kube.Cause
		want    string
		changed string // the end of the message
	}{
		{"admission policy", states[3].path, "Blue_0", func(t *testing.T, f *fixture, _ *config.Config) *rest.Config {
			must(t, env.RequireMemoryLimits(ctx, f.ns))
			return nil
		}, kube.CauseAdmission, `applying Deployment %s/model-blue: ValidatingAdmissionPolicy "require-memory-limit-%s" (binding "require-memory-limit-%s") denied it: ` + testenv.MemoryLimitPolicy + `; this is the cluster's admission policy, not a permission problem`,
			"; already changed: Service %s/model-svc-blue created"},
		{"quota", states[3].path, "Blue_0", func(t *testing.T, f *fixture, _ *config.Config) *rest.Config {
			must(t, env.ExhaustDeploymentQuota(ctx, f.ns))
			return nil
		}, kube.CauseQuota, `applying Deployment %s/model-blue: ResourceQuota "deployments" of namespace "%s" refused it: exceeded quota: deployments, requested: count/deployments.apps=1`,
			"; already changed: Service %s/model-svc-blue created"},
		{"RBAC without patch on Deployments", nil, "Blue_0", func(t *testing.T, f *fixture, _ *config.Config) *rest.Config {
			must(t, env.GrantRole(ctx, f.ns, "nopatch-"+f.ns, testenv.RulesWithout("deployments", "patch")))
			rc, err := env.UserConfig("nopatch-" + f.ns)
			must(t, err)
			return rc
		}, kube.CauseRBAC, `applying Deployment %s/model-blue: RBAC does not allow user "nopatch-%s" to patch deployments.apps in namespace "%s"; the credentials need get, list, create, patch and delete`,
			"; already changed: Service %s/model-svc-blue created"},
		{"conflict", states[4].path, "Blue_50", func(t *testing.T, f *fixture, c *config.Config) *rest.Config {
			// A spec change: a label or istiod's status in between is retried (conflict_test.go).
			return env.RaceVirtualService(t, f.ns, c.VirtualService)
		}, kube.CauseConflict, `VirtualService %s/mlmodel-virtualservice was changed by someone else while this stage ran (its spec changed: generation`,
			"; nothing was changed"},
		{"namespace terminating", nil, "Blue_0", func(t *testing.T, f *fixture, _ *config.Config) *rest.Config {
			must(t, env.TerminateNamespace(ctx, f.ns))
			return nil
		}, kube.CauseNamespaceTerminating, `applying Service %s/model-svc-blue: namespace "%s" is being deleted, so nothing new can be created in it`,
			"; nothing was changed"},
		{"invalid: someone else's Deployment with another selector", nil, "Blue_0", func(t *testing.T, f *fixture, c *config.Config) *rest.Config {
			d, err := render.Unstructured(render.Deployment(c, config.Blue, nil, imgB))
			must(t, err)
			for _, path := range [][]string{{"spec", "selector", "matchLabels"}, {"spec", "template", "metadata", "labels"}} {
				must(t, unstructured.SetNestedStringMap(d.Object, map[string]string{"app": "someone-elses"}, path...))
			}
			_, err = env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Create(ctx, d, metav1.CreateOptions{})
			must(t, err)
			return nil
		}, "", `Blue_0: Deployment %s/model-blue: spec.selector is app=someone-elses, but this stage writes it with pods labelled app=model,model_version=blue (--app model) and a Deployment's selector cannot be changed`,
			"; delete the Deployment so that mlcanary creates it again, or run with the --app it was created with"}, // issue #8 kind 7: checked before the first write, not met mid-stage
		{"Deployment being deleted", nil, "Blue_0", func(t *testing.T, _ *fixture, c *config.Config) *rest.Config {
			d, err := render.Unstructured(render.Deployment(c, config.Blue, nil, imgB))
			must(t, err)
			must(t, env.CreateBeingDeleted(ctx, kube.Deployments, d))
			return nil
		}, "", `Blue_0: the stage needs blue, but Deployment %s/model-blue is being deleted (since `,
			"; wait until it is gone (or remove its finalizers), then run Blue_0 again"}, // refused before any write (F3 of issue #13's break-it review)
		{"namespace missing", nil, "Blue_0", func(t *testing.T, f *fixture, c *config.Config) *rest.Config {
			c.Namespace = f.ns + "-gone"
			rc, err := env.ClusterWriter(ctx)
			must(t, err)
			return rc
		}, kube.CauseNotFound, `applying Service %s-gone/model-svc-blue: namespace "%s-gone" does not exist; create it first`,
			"; nothing was changed"},
		{"rejected credential", nil, "Blue_0", func(*testing.T, *fixture, *config.Config) *rest.Config {
			return &rest.Config{Host: env.Config.Host, BearerToken: "not-a-valid-token", TLSClientConfig: rest.TLSClientConfig{CAData: env.Config.CAData}}
		}, kube.CauseCredentials, `Blue_0: reading VirtualService %s/mlmodel-virtualservice: the API server at ` + env.Config.Host + ` rejected the credentials (401 Unauthorized); the token has expired or was revoked`,
			"run the stage again"},
		{"server does not answer", nil, "Blue_0", func(t *testing.T, _ *fixture, _ *config.Config) *rest.Config {
			// A listener that accepts connections and never answers, as a hung API server or a
			// black-holing firewall does; the client's request timeout ends each request.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			must(t, err)
			t.Cleanup(func() { _ = l.Close() })
			go func() {
				for {
					conn, err := l.Accept()
					if err != nil {
						return
					}
					t.Cleanup(func() { _ = conn.Close() })
				}
			}()
			return &rest.Config{Host: "https://" + l.Addr().String(), Timeout: 300 * time.Millisecond}
		}, kube.CauseTimeout, `Blue_0: reading VirtualService %s/mlmodel-virtualservice: the API server at https://127.0.0.1:`, // then the port and the
			// client's words, which depend on where the request was when its timeout ended it
			"); check that the cluster is up and reachable from this machine, then run the stage again"},
		{"unreachable", nil, "Blue_0", func(*testing.T, *fixture, *config.Config) *rest.Config {
			return &rest.Config{Host: "https://127.0.0.1:1", Timeout: 2 * time.Second}
		}, kube.CauseUnreachable, `Blue_0: reading VirtualService %s/mlmodel-virtualservice: cannot reach the API server at https://127.0.0.1:1 (dial tcp 127.0.0.1:1: connect: connection refused)`,
			"then run the stage again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach(tt.from)
			_, before := f.live()
			c := f.cfg(tt.stage, imgC)
			if tt.stage != "Blue_0" {
				c.Image = ""
			}
			cl := f.cl
			if rc := tt.setup(t, f, &c); rc != nil {
				cl = f.client(rc)
			}
			f.rec.reset()
			_, err := cl.Stage(ctx, c, t.Logf)
			f.rec.assertSafe(t)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			want := strings.ReplaceAll(tt.want, "%s", f.ns)
			changed := strings.ReplaceAll(tt.changed, "%s", f.ns)
			if kube.CauseOf(err) != tt.cause || !strings.Contains(msg, want) || !strings.HasSuffix(msg, changed) || strings.Contains(msg, "\n") {
				t.Fatalf("cause %q, error\n%s\nwant cause %q, one line containing\n%s\nending with %q", kube.CauseOf(err), msg, tt.cause, want, changed)
			}
			var se *engine.StageError
			if errors.As(err, &se) != strings.Contains(msg, "did not complete") {
				t.Errorf("a stage that began its steps must fail with a *StageError: %T", err)
			}
			if tt.cause != kube.CauseRBAC && strings.Contains(msg, "credentials need") {
				t.Error("sent to fix permissions that are fine")
			}
			if tt.name == "namespace missing" {
				return
			}
			// What holds is what held before, except what the message says changed: no route moved,
			// and the version being replaced is unrouted.
			routing, after := f.live()
			for _, v := range config.Versions {
				if routing.References(v) && after[v] != before[v] {
					t.Errorf("%s is routed but its Deployment changed from %q to %q", v, before[v], after[v])
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
