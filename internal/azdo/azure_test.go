package azdo_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/aks"
	"github.com/mlcanary/mlcanary/internal/aks/akstest"
	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/azdo"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// TestAzureClusterWithEntraID checks an AKS kubeconfig that needs kubelogin is served with an
// AKS-scoped token from the connection's credential, masked, instead of the exec plugin.
func TestAzureClusterWithEntraID(t *testing.T) {
	cloud := akstest.Start(t)
	cloud.ServeClusterUser(t, &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1beta1",
		Command: "kubelogin", Args: []string{"get-token", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"}}})
	id := cloud.ConnectionID
	env := cloud.PrincipalEnv()
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var masked []string
	conn := azdo.Connection{Type: azdo.ConnectionAzureRM, Endpoint: id, ResourceGroup: cloud.ResourceGroup, Cluster: cloud.Cluster}
	c, err := azdo.AzureCluster(context.Background(), lookup, conn, azdo.Job{}, func(s string) { masked = append(masked, s) },
		&azcore.ClientOptions{Transport: cloud.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Config.ExecProvider != nil || !strings.Contains(c.Source, "Entra ID") {
		t.Errorf("kubelogin not replaced: exec %v, source %q", c.Config.ExecProvider, c.Source)
	}
	// masked also holds the exec plugin arguments of the kubelogin kubeconfig (secret.Kubeconfig).
	if issued := cloud.IssuedFor(aks.ServerAppScope); len(issued) != 1 || !slices.Contains(masked, issued[0]) {
		t.Errorf("masked %q, issued for the AKS server %q: want that one token masked", masked, issued)
	}
	if secrets := azdo.ConnectionSecrets(func(k string) (string, bool) {
		if k == "INPUT_AZURESUBSCRIPTIONCONNECTION" {
			return id, true
		}
		return lookup(k)
	}); !slices.Contains(secrets, cloud.Secret) {
		t.Errorf("the service principal key is not among the secrets to mask")
	}
}

func TestAzureClusterNeedsSubscription(t *testing.T) {
	cloud := akstest.Start(t)
	id := cloud.ConnectionID
	env := map[string]string{"ENDPOINT_AUTH_SCHEME_" + id: "ServicePrincipal", "ENDPOINT_AUTH_PARAMETER_" + id + "_TENANTID": cloud.Tenant,
		"ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALID": cloud.ClientID, "ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALKEY": cloud.Secret}
	_, err := azdo.AzureCluster(context.Background(), func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		azdo.Connection{Endpoint: id, ResourceGroup: "rg", Cluster: "c"}, azdo.Job{}, func(string) {}, nil)
	if err == nil || !strings.Contains(err.Error(), "no subscription") {
		t.Fatalf("err = %v, want one about the missing subscription", err)
	}
}

// TestAzureMonitorAsTheConnection: with an Azure Resource Manager connection, the analysis after a
// stage queries an Azure Monitor workspace as that connection's identity: the credential
// AzureCluster used for the cluster asks Microsoft Entra ID (the local stand-in) for a token with
// the Prometheus scope, which the workspace (a local TLS stand-in that accepts only such tokens)
// is sent.
func TestAzureMonitorAsTheConnection(t *testing.T) {
	cloud := akstest.Start(t)
	cloud.ServeClusterUser(t, &clientcmdapi.AuthInfo{Token: "static"})
	id := cloud.ConnectionID
	env := cloud.PrincipalEnv()
	conn := azdo.Connection{Type: azdo.ConnectionAzureRM, Endpoint: id, ResourceGroup: cloud.ResourceGroup, Cluster: cloud.Cluster}
	c, err := azdo.AzureCluster(context.Background(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, conn, azdo.Job{},
		func(string) {}, &azcore.ClientOptions{Transport: cloud.Client()})
	if err != nil || c.Credential == nil {
		t.Fatalf("credential %v, err %v", c.Credential, err)
	}
	var authorized atomic.Int64
	ws := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !slices.Contains(cloud.IssuedFor("https://prometheus.monitor.azure.com/.default"), token) {
			http.Error(w, `{"error":{"code":"InvalidAuthenticationToken"}}`, http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
	}))
	defer ws.Close()
	tr := ws.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, ws.Listener.Addr().String())
	}
	tr.TLSClientConfig.ServerName = "example.com" // httptest's certificate
	in := analyze.NewInputs()
	in.PrometheusURL = "https://k8s02-workspace-abcd.eastus.prometheus.monitor.azure.com"
	cred := c.Credential
	measure, _, err := analyze.Prepare(in, config.Default(), time.Time{}, analyze.Identity{
		Credential: func() (azcore.TokenCredential, error) { return cred, nil }, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	_, err = measure(context.Background(), time.Now().Add(-time.Minute), time.Now())
	var none *istioprom.NoSeriesError
	if !errors.As(err, &none) || authorized.Load() == 0 {
		t.Errorf("%d authorized queries; err %v, want the workspace's answer (no series)", authorized.Load(), err)
	}
}
