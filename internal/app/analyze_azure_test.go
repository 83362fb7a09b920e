package app

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/mlcanary/mlcanary/internal/aks/akstest"
)

// TestAnalyzeAzureMonitor: --prometheus-url naming an Azure Monitor workspace makes analyze ask
// Microsoft Entra ID (the local stand-in) for a token with the Prometheus scope and send it to the
// workspace (a local TLS stand-in reached under the workspace's host name, which accepts only such
// tokens and answers like Prometheus); without the Monitoring Data Reader role the one line says so.
func TestAnalyzeAzureMonitor(t *testing.T) {
	entra := akstest.Start(t)
	reader := true
	inner, _ := fakePrometheus(t, map[string]map[string]int{"blue": {"200": 40000}, "green": {"200": 40000}}, map[string]int{})
	ws := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !slices.Contains(entra.IssuedFor("https://prometheus.monitor.azure.com/.default"), token):
			http.Error(w, `{"error":{"code":"InvalidAuthenticationToken"}}`, http.StatusUnauthorized)
		case !reader:
			http.Error(w, `{"error":{"code":"Forbidden","message":"The client does not have authorization to perform action 'Microsoft.Monitor/accounts/data/metrics/read'"}}`, http.StatusForbidden)
		default:
			inner.Config.Handler.ServeHTTP(w, r)
		}
	}))
	defer ws.Close()
	tr := ws.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, ws.Listener.Addr().String())
	}
	tr.TLSClientConfig.ServerName = "example.com" // httptest's certificate
	oldCred, oldTransport := azureCredential, azureTransport
	t.Cleanup(func() { azureCredential, azureTransport = oldCred, oldTransport })
	azureTransport = tr
	azureCredential = func() (azcore.TokenCredential, error) {
		return azidentity.NewClientSecretCredential(entra.Tenant, entra.ClientID, entra.Secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Transport: entra.Client(), Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL + "/"}},
			DisableInstanceDiscovery: true})
	}
	args := []string{"analyze", "--prometheus-url", "https://k8s02-workspace-abcd.eastus.prometheus.monitor.azure.com",
		"--since", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}
	if code, out, errs := runCLIEnv(nil, args...); code != ExitOK || !strings.Contains(out, "Analysis: blue against green: agrees") {
		t.Errorf("with the role: exit %d\n%s%s", code, out, errs)
	}
	reader = false
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
