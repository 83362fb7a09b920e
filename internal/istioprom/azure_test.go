package istioprom

import (
	"context"
	"errors"
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

// TestAzureScope: the three clouds' workspace endpoints, and everything else is a plain Prometheus.
func TestAzureScope(t *testing.T) {
	for endpoint, want := range map[string]string{
		"https://k8s02-workspace-abcd.eastus.prometheus.monitor.azure.com": "https://prometheus.monitor.azure.com/.default",
		"https://K8S.EASTUS.PROMETHEUS.MONITOR.AZURE.COM/":                 "https://prometheus.monitor.azure.com/.default",
		"https://ws.usgovvirginia.prometheus.monitor.azure.us":             "https://prometheus.monitor.azure.us/.default",
		"https://ws.chinanorth3.prometheus.monitor.azure.cn":               "https://prometheus.monitor.azure.cn/.default",
		"http://k8s02-workspace-abcd.eastus.prometheus.monitor.azure.com":  "", // Azure serves HTTPS only
		"https://prometheus.monitor.azure.com.evil.example":                "",
		"http://prometheus.istio-system:9090":                              "",
	} {
		got, ok := AzureScope(endpoint)
		if got != want || ok != (want != "") {
			t.Errorf("AzureScope(%q) = %q %v, want %q", endpoint, got, ok, want)
		}
	}
}

// azureMonitor is a stand-in for a workspace's query endpoint: it accepts only bearer tokens the
// Entra ID stand-in issued for the Prometheus scope to an identity with the Monitoring Data Reader
// role (any token that scope's, unless reader is false), answers like Prometheus, and refuses a
// query without exactly one metric name, as Azure does.
func azureMonitor(t *testing.T, entra *akstest.Server, reader *bool) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !slices.Contains(entra.IssuedFor("https://prometheus.monitor.azure.com/.default"), token) {
			http.Error(w, `{"error":{"code":"InvalidAuthenticationToken"}}`, http.StatusUnauthorized)
			return
		}
		if !*reader {
			http.Error(w, `{"error":{"code":"Forbidden","message":"The client does not have authorization to perform action 'Microsoft.Monitor/accounts/data/metrics/read'"}}`, http.StatusForbidden)
			return
		}
		_ = r.ParseForm()
		if q := r.Form.Get("query"); !strings.HasPrefix(q, "istio_") || strings.Contains(q, "__name__") {
			http.Error(w, `{"status":"error","errorType":"bad_data","error":"query must name one metric"}`, http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAzureMonitor: a service principal's token from the Entra ID stand-in, for the Prometheus
// scope, reaches the workspace stand-in (which then finds no series); an identity without the role
// gets one line naming it; a credential Entra ID refuses is one line without its secret.
func TestAzureMonitor(t *testing.T) {
	entra := akstest.Start(t)
	reader := true
	ws := azureMonitor(t, entra, &reader)
	credential := func(secret string) azcore.TokenCredential {
		c, err := azidentity.NewClientSecretCredential(entra.Tenant, entra.ClientID, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Transport: entra.Client(), Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL + "/"}},
			DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	measure := func(cred azcore.TokenCredential) error {
		api, err := NewAzureClient(ws.URL, "https://prometheus.monitor.azure.com/.default", cred, ws.Client().Transport)
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig
		cfg.Endpoint, cfg.Azure, cfg.End = ws.URL, true, time.Now()
		cfg.Start = cfg.End.Add(-10 * time.Minute)
		_, err = Measure(context.Background(), api, cfg)
		return err
	}
	if err := measure(credential(entra.Secret)); !errors.As(err, new(*NoSeriesError)) {
		t.Errorf("with the role: %v", err)
	}
	reader = false
	err := measure(credential(entra.Secret))
	if err == nil || !strings.Contains(err.Error(), "client error: 403") || !strings.Contains(err.Error(), "Monitoring Data Reader role") || strings.Contains(err.Error(), "\n") {
		t.Errorf("without the role: %v", err)
	}
	t.Log(err)
	reader = true
	err = measure(credential("wrong-s3cret"))
	if err == nil || !strings.Contains(err.Error(), "getting a Microsoft Entra ID token for https://prometheus.monitor.azure.com/.default") ||
		strings.Contains(err.Error(), "wrong-s3cret") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a refused credential: %v", err)
	}
	t.Log(err)
	for _, tk := range entra.Issued() {
		if err != nil && strings.Contains(err.Error(), tk) {
			t.Errorf("a token is printed")
		}
	}
}
