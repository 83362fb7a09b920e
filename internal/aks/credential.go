// Package aks gets a client config for an Azure Kubernetes Service cluster from an Azure Resource
// Manager service connection: it builds an azidentity credential for the connection's scheme,
// asks ARM for the cluster's kubeconfig (listClusterUserCredential or listClusterAdminCredential),
// and, when that kubeconfig would need the kubelogin exec plugin (Microsoft Entra ID clusters),
// authenticates with a token for the AKS server application from the same credential instead.
package aks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Schemes of an Azure Resource Manager service connection (ENDPOINT_AUTH_SCHEME_<id>).
const (
	SchemeWorkloadIdentity = "WorkloadIdentityFederation"
	SchemeServicePrincipal = "ServicePrincipal"
	SchemeManagedIdentity  = "ManagedServiceIdentity"
)

// DefaultAuthority is Microsoft Entra ID in Azure's public cloud, used when the connection does not
// name one.
const DefaultAuthority = "https://login.microsoftonline.com/"

// Connection is an Azure Resource Manager service connection as the agent hands it to a task.
type Connection struct {
	// ID is the service connection's id (needed to request its OIDC token).
	ID string
	// Scheme is one of the Scheme constants.
	Scheme string
	// TenantID and ClientID identify the service principal (not secret).
	TenantID, ClientID string
	// Secret is the client secret (ServicePrincipal with authenticationType spnKey).
	Secret string
	// Certificate is the PEM certificate and private key (ServicePrincipal with spnCertificate).
	Certificate string
	// MSIClientID selects a user-assigned managed identity; empty means system-assigned.
	MSIClientID string
	// SystemAccessToken is the job's access token, which the OIDC request for workload identity
	// federation is authenticated with.
	SystemAccessToken string
	// AuthorityHost is Microsoft Entra ID's URL for the connection's cloud.
	AuthorityHost string
}

// Credential returns a credential for the connection. Workload identity federation uses
// azidentity.NewAzurePipelinesCredential, which also reads SYSTEM_OIDCREQUESTURI from the process
// environment (the agent sets it for every job). opts configures the HTTP pipeline; nil is fine.
func Credential(c Connection, opts *azcore.ClientOptions) (azcore.TokenCredential, error) {
	co := azcore.ClientOptions{}
	if opts != nil {
		co = *opts
	}
	authority := c.AuthorityHost
	if authority == "" {
		authority = DefaultAuthority
	}
	co.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: authority, Services: co.Cloud.Services}
	switch strings.ToLower(c.Scheme) {
	case strings.ToLower(SchemeWorkloadIdentity):
		return azidentity.NewAzurePipelinesCredential(c.TenantID, c.ClientID, c.ID, c.SystemAccessToken,
			&azidentity.AzurePipelinesCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	case strings.ToLower(SchemeServicePrincipal):
		return servicePrincipal(c, co)
	case strings.ToLower(SchemeManagedIdentity):
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if c.MSIClientID != "" {
			o.ID = azidentity.ClientID(c.MSIClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	}
	return nil, fmt.Errorf("azure resource manager connection %s: scheme %q is not supported (want %s, %s or %s)",
		c.ID, c.Scheme, SchemeWorkloadIdentity, SchemeServicePrincipal, SchemeManagedIdentity)
}

func servicePrincipal(c Connection, co azcore.ClientOptions) (azcore.TokenCredential, error) {
	if c.Certificate != "" {
		certs, key, err := azidentity.ParseCertificates([]byte(c.Certificate), nil)
		if err != nil {
			// The parse error may quote the input; keep it out of the message.
			return nil, fmt.Errorf("azure resource manager connection %s: reading the service principal certificate: not a PEM certificate with its private key", c.ID)
		}
		return azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	}
	if c.Secret == "" {
		return nil, errors.New("azure resource manager connection " + c.ID + ": the service principal has neither a key nor a certificate")
	}
	return azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.Secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
}
