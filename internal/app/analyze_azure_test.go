package app

import (
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/mlcanary/mlcanary/internal/aks/akstest"
	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
)

// TestAnalyzeAzureMonitor: --prometheus-url naming an Azure Monitor workspace makes analyze ask
// Microsoft Entra ID (the local stand-in) for a token with the Prometheus scope and send it to the
// workspace: promtest's stand-in, reached under the workspace's host name, in front of a real
// Prometheus fed by promtool, which accepts only such tokens and refuses the queries Azure refuses.
// Blue agrees; without the Monitoring Data Reader role the one line says so.
func TestAnalyzeAzureMonitor(t *testing.T) {
	entra := akstest.Start(t)
	now := time.Now()
	prom := promtest.Run(t, promtest.Options{ScrapeInterval: 30 * time.Second, Backfill: promtest.IstioBackfill("abtesting",
		now.Add(-20*time.Minute), now.Add(5*time.Minute), map[string]promtest.Traffic{"blue": {OK: 40}, "green": {OK: 40}})})
	ws := promtest.StartAzureMonitor(t, entra, prom)
	oldCred, oldTransport := azureCredential, azureTransport
	t.Cleanup(func() { azureCredential, azureTransport = oldCred, oldTransport })
	azureTransport = ws.Transport()
	azureCredential = func() (azcore.TokenCredential, error) {
		return azidentity.NewClientSecretCredential(entra.Tenant, entra.ClientID, entra.Secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Transport: entra.Client(), Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL + "/"}},
			DisableInstanceDiscovery: true})
	}
	args := []string{"analyze", "--prometheus-url", ws.Endpoint(), "--since", now.Add(-time.Hour).UTC().Format(time.RFC3339)}
	if code, out, errs := runCLIEnv(nil, args...); code != ExitOK || !strings.Contains(out, "Analysis: blue against green: agrees") {
		t.Errorf("with the role: exit %d\n%s%s", code, out, errs)
	}
	// Six queries per measurement: the one look, and the nine earlier parts of its full window it
	// fills in to estimate how clustered each version's errors are (analyze's fillIn).
	if len(ws.Queries()) != 60 {
		t.Errorf("queries answered: %q", ws.Queries())
	}
	ws.SetReader(false)
	code, _, errs := runCLIEnv(nil, args...)
	if code != ExitFailed || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "Monitoring Data Reader role") {
		t.Errorf("without the role: exit %d, %q", code, errs)
	}
	for _, tk := range entra.Issued() {
		if strings.Contains(errs, tk) {
			t.Error("a token is printed")
		}
	}
}
