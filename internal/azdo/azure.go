package azdo

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/mlcanary/mlcanary/internal/aks"
	"github.com/mlcanary/mlcanary/internal/frontend"
)

// AzureConnection reads an Azure Resource Manager service connection's variables.
func AzureConnection(env frontend.LookupEnv, id string, job Job) aks.Connection {
	e := Endpoint{ID: id, env: env}
	c := aks.Connection{
		ID:                id,
		Scheme:            e.Scheme(),
		TenantID:          e.Param("tenantid"),
		ClientID:          e.Param("serviceprincipalid"),
		MSIClientID:       e.Data("msiclientId"),
		SystemAccessToken: job.AccessToken,
		AuthorityHost:     e.Data("environmentAuthorityUrl"),
	}
	if c.AuthorityHost == "" {
		c.AuthorityHost = e.Data("activeDirectoryAuthority")
	}
	if strings.EqualFold(e.Param("authenticationType"), "spnCertificate") {
		c.Certificate = e.Param("servicePrincipalCertificate")
	} else {
		c.Secret = e.Param("serviceprincipalkey")
	}
	return c
}

// AzureCluster gets a client config for the AKS cluster conn names, through the Azure Resource
// Manager connection: credential → ARM credential action → kubeconfig, and a Microsoft Entra ID token
// instead of kubelogin when the kubeconfig asks for it. mask receives every secret as soon as it is
// known. opts configures the HTTP pipelines (nil in production).
func AzureCluster(ctx context.Context, env frontend.LookupEnv, conn Connection, job Job, mask func(string), opts *azcore.ClientOptions) (Cluster, error) {
	e := Endpoint{ID: conn.Endpoint, env: env}
	ac := AzureConnection(env, conn.Endpoint, job)
	cred, err := aks.Credential(ac, opts)
	if err != nil {
		return Cluster{}, fmt.Errorf("azure resource manager connection %s: %w", conn.Endpoint, err)
	}
	sub := e.Data("subscriptionId")
	if sub == "" {
		return Cluster{}, fmt.Errorf("azure resource manager connection %s has no subscription (ENDPOINT_DATA_%s_SUBSCRIPTIONID); a management-group scoped connection cannot select an AKS cluster", conn.Endpoint, conn.Endpoint)
	}
	raw, err := aks.Kubeconfig(ctx, cred, aks.Cluster{ARMURL: e.URL(), SubscriptionID: sub,
		ResourceGroup: conn.ResourceGroup, Name: conn.Cluster, Admin: conn.Admin}, opts)
	if err != nil {
		return Cluster{}, err
	}
	c, err := FromKubeconfig(raw, "", false)
	for _, s := range c.Secrets {
		mask(s)
	}
	if err != nil {
		return c, fmt.Errorf("AKS cluster %s/%s: %w", conn.ResourceGroup, conn.Cluster, err)
	}
	c.Credential = cred
	c.Source = fmt.Sprintf("AKS cluster %s/%s (%s credential, %s)", conn.ResourceGroup, conn.Cluster, credentialKind(conn.Admin), ac.Scheme)
	if aks.NeedsToken(c.Config) {
		if err := aks.UseToken(ctx, c.Config, cred, mask); err != nil {
			return c, fmt.Errorf("AKS cluster %s/%s: %w", conn.ResourceGroup, conn.Cluster, err)
		}
		c.Source += ", Microsoft Entra ID token"
	}
	return c, nil
}

func credentialKind(admin bool) string {
	if admin {
		return "admin"
	}
	return "user"
}

// ConnectionSecrets lists the secrets the task's service connections hand to the process, in every
// form mlcanary derives from them, so they are masked before anything is printed. It reads both
// connection inputs so a bad input cannot skip masking.
func ConnectionSecrets(env frontend.LookupEnv) []string {
	var out []string
	if id := input(env, InputKubernetesConnection); id != "" {
		e := Endpoint{ID: id, env: env}
		if raw := e.Param("kubeconfig"); raw != "" {
			c, _ := FromKubeconfig([]byte(raw), "", false)
			out = append(out, c.Secrets...)
		}
		if enc := e.Param("apiToken"); enc != "" {
			out = append(out, enc)
			if tok, err := base64.StdEncoding.DecodeString(enc); err == nil {
				out = append(out, strings.TrimSpace(string(tok)))
			}
		}
	}
	if id := input(env, InputAzureSubscription); id != "" {
		e := Endpoint{ID: id, env: env}
		out = append(out, e.Param("serviceprincipalkey"), e.Param("servicePrincipalCertificate"))
	}
	return out
}
