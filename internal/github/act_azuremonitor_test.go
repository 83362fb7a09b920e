package github

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/aks/akstest"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// TestActAnalysisOnAzureMonitor runs action.yml under nektos/act: Blue_50 with analysis on an
// Azure Monitor workspace (promtest's stand-in in front of a real Prometheus whose backfilled Istio
// series count equal versions). The step authenticates with azidentity's default chain from the
// AZURE_* variables alone — public cloud, no authority configured — and the test stands in for the
// internet: HTTPS_PROXY tunnels login.microsoftonline.com to the Microsoft Entra ID stand-in and the
// workspace's host to the workspace stand-in, whose certificates are the only ones SSL_CERT_FILE
// trusts. The workspace answers only the token Entra ID issued for the Prometheus scope; blue agrees,
// a later step reads the output decision, the step summary shows the verdict, and neither the
// client secret nor a token appears in the log.
func TestActAnalysisOnAzureMonitor(t *testing.T) {
	root := repoRoot(t)
	act := actBinary(t, root)
	env := testenv.Start(t)
	env.StartController(t)
	kubeconfig := env.Kubeconfig(t)
	const ns = "gh-azmon"
	createNamespace(t, env, ns)
	seedGreen(t, env, ns, "registry.example/model:1")
	stageBlue(t, env, ns, "registry.example/model:2", "Blue_0", "Blue_30")

	now := time.Now().Truncate(time.Second)
	prom := promtest.Run(t, promtest.Options{Backfill: promtest.IstioBackfillEvery(ns, now.Add(-10*time.Minute), now.Add(10*time.Minute),
		time.Second, map[string]promtest.Traffic{"blue": {OK: 1000}, "green": {OK: 1000}})})
	entra := akstest.Start(t)
	ws := promtest.StartAzureMonitor(t, entra, prom)
	proxy := promtest.Proxy(t, map[string]string{
		ws.Host():                            ws.Listener.Addr().String(),
		akstest.PublicAuthorityHost + ":443": entra.Listener.Addr().String(),
	})
	trusted := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(trusted, append(ws.CAPEM(), entra.CertificatePEM()...), 0o600); err != nil {
		t.Fatal(err)
	}
	run := runAct(t, act, root, "azuremonitor.yml", `AZURE_CLIENT_SECRET="`+entra.Secret+"\"\n",
		"MLCANARY_TEST_NAMESPACE="+ns, "MLCANARY_TEST_KUBECONFIG="+kubeconfig, "MLCANARY_TEST_WORKSPACE="+ws.Endpoint(),
		"MLCANARY_TEST_TENANT="+entra.Tenant, "MLCANARY_TEST_CLIENT="+entra.ClientID,
		"HTTPS_PROXY="+proxy, "SSL_CERT_FILE="+trusted)
	if run.err != nil || run.jobResult() != "success" {
		t.Fatalf("act: %v, job %q; log:\n%s", run.err, run.jobResult(), run.log())
	}
	if got := run.output("decision"); got != "agrees" {
		t.Errorf("output decision read by a later step = %q, want agrees", got)
	}
	if sum := run.summary("blue50"); !strings.Contains(sum, ws.Endpoint()) || !strings.Contains(sum, "agrees") {
		t.Errorf("the step summary does not show the workspace's verdict:\n%s", sum)
	}
	if len(ws.Queries()) < 6 {
		t.Errorf("the workspace answered %d queries, want at least 6", len(ws.Queries()))
	}
	if len(entra.IssuedFor(promtest.AzureScope)) == 0 {
		t.Errorf("no token was issued for %s; Entra ID saw %q", promtest.AzureScope, entra.Calls())
	}
	assertNoSecret(t, run, append(entra.Issued(), entra.Secret))
}

// stageBlue performs stages with blue's image in namespace ns, as earlier pipeline runs did.
func stageBlue(t *testing.T, env *testenv.Env, ns, image string, stages ...string) {
	t.Helper()
	c, err := engine.NewClient(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range stages {
		cfg := config.Default()
		cfg.Namespace, cfg.Image, cfg.Timeout = ns, image, time.Minute
		if cfg.Stage, err = config.ParseStage(name); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := c.Stage(ctx, cfg, t.Logf)
		cancel()
		if err != nil {
			t.Fatalf("%s in %s: %v", name, ns, err)
		}
	}
}
