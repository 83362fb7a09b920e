package akstest

import (
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ServeClusterUser makes the cluster's user kubeconfig (Kubeconfigs["clusterUser"], what AKS's
// listClusterUserCredential returns) an AKS API server address with user as its credentials: an
// exec plugin (kubelogin) for an Entra ID cluster, a static token otherwise.
func (s *Server) ServeClusterUser(t testing.TB, user *clientcmdapi.AuthInfo) {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["aks"] = &clientcmdapi.Cluster{Server: "https://aks-1-dns.hcp.westeurope.azmk8s.io:443"}
	kc.AuthInfos["user"] = user
	kc.Contexts["aks"] = &clientcmdapi.Context{Cluster: "aks", AuthInfo: "user"}
	kc.CurrentContext = "aks"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	s.Kubeconfigs["clusterUser"] = data
}

// PrincipalEnv is the Azure DevOps agent's environment for an Azure Resource Manager service
// connection (ConnectionID) authenticating as this stand-in's service principal with a secret.
func (s *Server) PrincipalEnv() map[string]string {
	id := s.ConnectionID
	return map[string]string{
		"ENDPOINT_URL_" + id:                                     s.URL,
		"ENDPOINT_AUTH_SCHEME_" + id:                             "ServicePrincipal",
		"ENDPOINT_AUTH_PARAMETER_" + id + "_TENANTID":            s.Tenant,
		"ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALID":  s.ClientID,
		"ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALKEY": s.Secret,
		"ENDPOINT_DATA_" + id + "_SUBSCRIPTIONID":                s.Subscription,
		"ENDPOINT_DATA_" + id + "_ENVIRONMENTAUTHORITYURL":       s.URL,
	}
}
