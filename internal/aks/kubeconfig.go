package aks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// APIVersion is the Microsoft.ContainerService API version of the credential calls (the one
// Microsoft's own Kubernetes tasks use).
const APIVersion = "2024-05-01"

// DefaultARM is Azure Resource Manager in Azure's public cloud.
const DefaultARM = "https://management.azure.com/"

// Cluster selects an AKS cluster and which of its credentials to fetch.
type Cluster struct {
	// ARMURL is the Resource Manager URL of the connection's cloud (ENDPOINT_URL_<id>).
	ARMURL string
	// SubscriptionID, ResourceGroup and Name locate the managed cluster.
	SubscriptionID, ResourceGroup, Name string
	// Admin asks for the cluster-admin credential (listClusterAdminCredential), which local
	// accounts must allow; otherwise the user credential (listClusterUserCredential).
	Admin bool
}

// Kubeconfig asks ARM for the cluster's kubeconfig with cred and returns it decoded. opts
// configures the HTTP pipeline (tests pass a transport trusting their server); nil is fine.
func Kubeconfig(ctx context.Context, cred azcore.TokenCredential, c Cluster, opts *policy.ClientOptions) ([]byte, error) {
	arm := c.ARMURL
	if arm == "" {
		arm = DefaultARM
	}
	arm = strings.TrimSuffix(arm, "/")
	action, name := "listClusterUserCredential", "clusterUser"
	if c.Admin {
		action, name = "listClusterAdminCredential", "clusterAdmin"
	}
	what := fmt.Sprintf("AKS cluster %s/%s", c.ResourceGroup, c.Name)
	u := fmt.Sprintf("%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s/%s?api-version=%s",
		arm, url.PathEscape(c.SubscriptionID), url.PathEscape(c.ResourceGroup), url.PathEscape(c.Name), action, APIVersion)
	if opts == nil {
		opts = &policy.ClientOptions{}
	}
	bearer := runtime.NewBearerTokenPolicy(cred, []string{arm + "/.default"}, nil)
	pl := runtime.NewPipeline("mlcanary", "", runtime.PipelineOptions{PerRetry: []policy.Policy{bearer}}, opts)
	req, err := runtime.NewRequest(ctx, http.MethodPost, u)
	if err != nil {
		return nil, fmt.Errorf("fetching credentials of %s: %w", what, err)
	}
	resp, err := pl.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching credentials of %s: %w", what, err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end or abandoned: nothing to report
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return nil, fmt.Errorf("fetching credentials of %s: %s: %w", what, action, runtime.NewResponseError(resp))
	}
	return pickKubeconfig(resp, name, what)
}

// credentialResults is the documented response of both credential actions.
type credentialResults struct {
	Kubeconfigs []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"kubeconfigs"`
}

func pickKubeconfig(resp *http.Response, name, what string) ([]byte, error) {
	var r credentialResults
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("reading credentials of %s: %w", what, err)
	}
	for _, kc := range r.Kubeconfigs {
		if kc.Name == name || len(r.Kubeconfigs) == 1 {
			b, err := base64.StdEncoding.DecodeString(kc.Value)
			if err != nil {
				return nil, fmt.Errorf("reading credentials of %s: kubeconfig %q is not base64", what, kc.Name)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("reading credentials of %s: the response has no %s kubeconfig", what, name)
}
