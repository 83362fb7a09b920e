package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

func TestVerifyCommandRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no gateway", nil, `invalid gateway "": allowed: the ingress gateway's address`},
		{"gateway not http", []string{"--gateway", "ftp://1.2.3.4"}, `invalid gateway "ftp://1.2.3.4"`},
		{"gateway with the path", []string{"--gateway", "1.2.3.4/score"}, `invalid gateway "1.2.3.4/score": allowed: the gateway's http(s) address without a path`},
		{"output", []string{"--gateway", "1.2.3.4", "-o", "yaml"}, `invalid output "yaml": allowed: markdown or json`},
		{"tolerance", []string{"--gateway", "1.2.3.4", "--tolerance", "100"}, `invalid tolerance "100"`},
		{"confidence", []string{"--gateway", "1.2.3.4", "--confidence", "0.2"}, `invalid confidence "0.2"`},
		{"requests", []string{"--gateway", "1.2.3.4", "--requests", "-1"}, `invalid requests "-1"`},
		{"max errors", []string{"--gateway", "1.2.3.4", "--max-errors", "101"}, `invalid max-errors "101"`},
		{"stage-only input", []string{"--gateway", "1.2.3.4", "--image", "x:1"}, "unknown flag: --image"},
		{"argument", []string{"--gateway", "1.2.3.4", "now"}, `unknown command "now"`},
		{"gateway with credentials", []string{"--gateway", "http://user:s3cret@1.2.3.4"}, `invalid gateway "http://user:xxxxx@1.2.3.4"`},
		// The Prometheus source that counts a Shadow_N mirror's copies is checked like analyze's.
		{"prometheus url not http", []string{"--gateway", "1.2.3.4", "--prometheus-url", "ftp://prom:9090"}, `invalid prometheus-url "ftp://prom:9090"`},
		{"prometheus url with credentials", []string{"--gateway", "1.2.3.4", "--prometheus-url", "http://u:s3cret@prom:9090"}, `invalid prometheus-url "http://u:xxxxx@prom:9090"`},
		{"prometheus two credentials", []string{"--gateway", "1.2.3.4", "--prometheus-url", "http://prom:9090", "--prometheus-token-file", "t", "--prometheus-user", "u"}, "prometheus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t.Context(), append([]string{"verify"}, tc.args...)...)
			if code != ExitInvalid || !strings.Contains(errOut, tc.wantErr) || strings.Count(errOut, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line containing %q", code, out, errOut, tc.wantErr)
			}
		})
	}
}

func TestVerifyCommandWithoutCluster(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no-such-kubeconfig")
	code, out, errOut := run(t.Context(), "verify", "--gateway", "127.0.0.1:1", "--kubeconfig", missing)
	if code != ExitInvalid || !strings.Contains(errOut, `invalid kubeconfig "`+missing+`"`) || out != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 naming the kubeconfig", code, out, errOut)
	}
}

// TestIntegrationVerifyCommand runs verify the way a pipeline does: against a real API server
// holding the routes of a Blue_30 stage, and a loopback gateway that either honours those routes
// or sends 90/10 regardless.
func TestIntegrationVerifyCommand(t *testing.T) {
	env := shared.Env(t)
	env.StartController(t)
	live := stageBlue30(t, env, "verify")
	kubeconfig := env.Kubeconfig(t)
	tests := []struct {
		name   string
		actual summary.Weights
		code   int
		outHas string
		errHas string
	}{
		{"gateway honours the live routes", live.Weights, ExitOK,
			"### mlcanary verify: ✅ traffic matches the live routes", ""},
		{"gateway sends 90/10", summary.Weights{Green: 90, Blue: 10}, ExitFailed,
			"### mlcanary verify: ❌ traffic does not match the live routes",
			`mlcanary: traffic does not match: default route: "New Model A" is `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gw := gateway(t, tc.actual, live.Routes, 0)
			code, out, errOut := run(t.Context(), "verify", "--gateway", gw, "--kubeconfig", kubeconfig, "-n", "verify", "-c", "8")
			if code != tc.code || !strings.Contains(out, tc.outHas) || !strings.Contains(errOut, tc.errHas) {
				t.Errorf("exit %d (want %d), stderr %q (want %q), stdout:\n%s", code, tc.code, errOut, tc.errHas, out)
			}
			for _, s := range []string{"`x-api-version: blue` on `/score`", `"New Model B" _(learned)_`, "`██████████████░░░░░░` 70.0%"} {
				if !strings.Contains(out, s) {
					t.Errorf("report lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

// stageBlue30 leaves namespace ns at Blue_30 after a first release, and returns its live status.
func stageBlue30(t *testing.T, env *testenv.Env, ns string) *summary.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	c, err := engine.NewClient(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct{ stage, image string }{
		{"Blue_0", "registry.example/model:1"}, {"Blue_100", ""}, {"Blue_Green", ""}, {"Green_100", ""},
		{"Blue_0", "registry.example/model:2"}, {"Blue_30", ""},
	}
	image := ""
	for _, s := range steps {
		if s.image != "" {
			image = s.image
		}
		cfg := config.Default()
		cfg.Namespace, cfg.Image, cfg.Timeout = ns, image, time.Minute
		if cfg.Stage, err = config.ParseStage(s.stage); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Stage(ctx, cfg, t.Logf); err != nil {
			t.Fatalf("%s: %v", s.stage, err)
		}
	}
	cfg := config.Default()
	cfg.Namespace = ns
	res, err := c.Status(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Weights != (summary.Weights{Green: 70, Blue: 30}) || len(res.Routes) == 0 {
		t.Fatalf("after Blue_30: weights %+v, routes %+v", res.Weights, res.Routes)
	}
	return res
}
