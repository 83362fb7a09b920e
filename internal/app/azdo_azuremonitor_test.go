package app

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/aks"
	"github.com/mlcanary/mlcanary/internal/aks/akstest"
	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
)

// TestAzureMonitorAnalysisThroughLauncher: the Azure DevOps task, through its launcher as the agent
// runs it, stages Blue_50 with analysis on an Azure Monitor workspace: promtest's stand-in (reached
// through HTTPS_PROXY under the workspace's host name, its CA in SSL_CERT_FILE) in front of a real
// Prometheus whose Istio series (backfilled by promtool, a sample every second) count equal
// versions. The task's Azure Resource Manager connection (a service principal) gets the cluster's
// credential from ARM and a token for the Prometheus scope from Entra ID (both local stand-ins);
// the workspace answers only that token; blue agrees and the output decision says so.
func TestAzureMonitorAnalysisThroughLauncher(t *testing.T) {
	task := launcher(t)
	t.Parallel()
	e := shared.Env(t)
	e.StartController(t)
	const ns = "abtest-azmon"
	stageBlue30(t, e, ns)
	now := time.Now().Truncate(time.Second)
	prom := promtest.Run(t, promtest.Options{Backfill: promtest.IstioBackfillEvery(ns, now.Add(-10*time.Minute), now.Add(10*time.Minute),
		time.Second, map[string]promtest.Traffic{"blue": {OK: 1000}, "green": {OK: 1000}})})
	org := azdotest.Start(t)
	cloud := akstest.Start(t)
	ws := promtest.StartAzureMonitor(t, cloud, prom)
	admin, err := os.ReadFile(e.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	cloud.Kubeconfigs["clusterAdmin"] = admin
	id := cloud.ConnectionID
	env := jobEnv(t, org, cloud.Certificate(), ws.CA)
	for k, v := range map[string]string{
		"INPUT_CONNECTIONTYPE":                        "azureResourceManager",
		"INPUT_AZURESUBSCRIPTIONCONNECTION":           id,
		"INPUT_AZURERESOURCEGROUP":                    cloud.ResourceGroup,
		"INPUT_KUBERNETESCLUSTER":                     cloud.Cluster,
		"INPUT_USECLUSTERADMIN":                       "true",
		"INPUT_NAMESPACE":                             ns,
		"INPUT_TIMEOUT":                               "60",
		"INPUT_STAGE":                                 "Blue_50",
		"INPUT_ANALYSIS":                              "true",
		"INPUT_PROMETHEUSURL":                         ws.Endpoint(),
		"INPUT_WINDOW":                                "1m",
		"INPUT_INTERVAL":                              "1s",
		"ENDPOINT_URL_" + id:                          cloud.URL + "/",
		"ENDPOINT_AUTH_SCHEME_" + id:                  aks.SchemeServicePrincipal,
		"ENDPOINT_AUTH_PARAMETER_" + id + "_TENANTID": cloud.Tenant,
		"ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALID":  cloud.ClientID,
		"ENDPOINT_AUTH_PARAMETER_" + id + "_AUTHENTICATIONTYPE":  "spnKey",
		"ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALKEY": cloud.Secret,
		"ENDPOINT_DATA_" + id + "_SUBSCRIPTIONID":                cloud.Subscription,
		"ENDPOINT_DATA_" + id + "_ENVIRONMENTAUTHORITYURL":       cloud.URL + "/",
		"HTTPS_PROXY": ws.ProxyURL(t),
	} {
		env[k] = v
	}
	r := runTask(t, task, env)
	if r.code != 0 || r.outputs()["decision"] != "agrees" {
		t.Fatalf("exit %d, decision %q\nstdout:\n%s\nstderr:\n%s", r.code, r.outputs()["decision"], r.stdout, r.stderr)
	}
	if len(ws.Queries()) < 6 {
		t.Errorf("the workspace answered %d queries, want at least 6", len(ws.Queries()))
	}
	// The summary tab shows the evidence, the workspace's endpoint among it.
	attached := r.find("task.addattachment")
	if len(attached) != 1 {
		t.Fatalf("%d attachments", len(attached))
	}
	md, err := os.ReadFile(attached[0].data)
	if err != nil || !strings.Contains(string(md), ws.Endpoint()) || !strings.Contains(string(md), "agrees") {
		t.Errorf("the summary does not show the workspace's verdict (%v):\n%s", err, md)
	}
	r.checkSecrets(t, append(cloud.Issued(), cloud.Secret, org.Token), []string{org.Token, cloud.Secret})
}
