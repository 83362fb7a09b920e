package azdo_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/aks"
	"github.com/mlcanary/mlcanary/internal/aks/akstest"
	"github.com/mlcanary/mlcanary/internal/azdo"
)

// TestAzureClusterWithEntraID checks an AKS kubeconfig that needs kubelogin is served with an
// AKS-scoped token from the connection's credential, masked, instead of the exec plugin.
func TestAzureClusterWithEntraID(t *testing.T) {
	cloud := akstest.Start(t)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["aks"] = &clientcmdapi.Cluster{Server: "https://aks-1-dns.hcp.westeurope.azmk8s.io:443"}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1beta1",
		Command: "kubelogin", Args: []string{"get-token", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"}}}
	kc.Contexts["aks"] = &clientcmdapi.Context{Cluster: "aks", AuthInfo: "user"}
	kc.CurrentContext = "aks"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	cloud.Kubeconfigs["clusterUser"] = data
	id := cloud.ConnectionID
	env := map[string]string{
		"ENDPOINT_URL_" + id:                                     cloud.URL,
		"ENDPOINT_AUTH_SCHEME_" + id:                             "ServicePrincipal",
		"ENDPOINT_AUTH_PARAMETER_" + id + "_TENANTID":            cloud.Tenant,
		"ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALID":  cloud.ClientID,
		"ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALKEY": cloud.Secret,
		"ENDPOINT_DATA_" + id + "_SUBSCRIPTIONID":                cloud.Subscription,
		"ENDPOINT_DATA_" + id + "_ENVIRONMENTAUTHORITYURL":       cloud.URL,
	}
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
