package azdo

import (
	"context"
	"io"
	"slices"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/aks/akstest"
)

// TestConnectGivesTheAnalysisTheConnectionsIdentity: the task connected through an Azure Resource
// Manager connection hands the analysis that connection's credential, which gets Microsoft Entra ID
// tokens (the local stand-in) for Azure Monitor's Prometheus scope; through a Kubernetes connection
// it hands none, so the analysis uses azidentity's default chain.
func TestConnectGivesTheAnalysisTheConnectionsIdentity(t *testing.T) {
	cloud := akstest.Start(t)
	cloud.ServeClusterUser(t, &clientcmdapi.AuthInfo{Token: "static-token"})
	id := cloud.ConnectionID
	env := cloud.PrincipalEnv()
	for k, v := range map[string]string{
		"INPUT_STAGE": "Blue_50", "INPUT_CONNECTIONTYPE": "azureResourceManager", "INPUT_AZURESUBSCRIPTIONCONNECTION": id,
		"INPUT_AZURERESOURCEGROUP": cloud.ResourceGroup, "INPUT_KUBERNETESCLUSTER": cloud.Cluster,
		"INPUT_ANALYSIS": "true", "INPUT_PROMETHEUSURL": "https://k8s02-workspace-abcd.eastus.prometheus.monitor.azure.com",
	} {
		env[k] = v
	}
	f := NewFront(mapEnv(env), io.Discard)
	f.azureOpts = &azcore.ClientOptions{Transport: cloud.Client()}
	req, err := f.Inputs()
	if err != nil || req.Analysis == nil {
		t.Fatalf("inputs: analysis %+v, err %v", req.Analysis, err)
	}
	cl, err := f.Connect(context.Background(), req, func(string) {})
	if err != nil || cl.Identity.Credential == nil {
		t.Fatalf("connect: identity %+v, err %v", cl.Identity, err)
	}
	cred, err := cl.Identity.Credential()
	if err != nil {
		t.Fatal(err)
	}
	const scope = "https://prometheus.monitor.azure.com/.default"
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil || !slices.Contains(cloud.IssuedFor(scope), tok.Token) {
		t.Errorf("token for %s: %v; issued %v", scope, err, cloud.IssuedFor(scope))
	}

	k8s := map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_KUBERNETESSERVICECONNECTION": "K",
		"ENDPOINT_DATA_K_AUTHORIZATIONTYPE": "Kubeconfig", "ENDPOINT_AUTH_PARAMETER_K_KUBECONFIG": string(cloud.Kubeconfigs["clusterUser"])}
	f = NewFront(mapEnv(k8s), io.Discard)
	if req, err = f.Inputs(); err != nil {
		t.Fatal(err)
	}
	if cl, err = f.Connect(context.Background(), req, func(string) {}); err != nil || cl.Identity.Credential != nil {
		t.Errorf("a Kubernetes connection: identity %+v, err %v; want none (the default chain)", cl.Identity, err)
	}
}
