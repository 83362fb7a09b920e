package azdo

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/secret"
)

// Authorization types of a Kubernetes service connection (ENDPOINT_DATA_<id>_AUTHORIZATIONTYPE).
const (
	AuthKubeconfig        = "Kubeconfig"
	AuthServiceAccount    = "ServiceAccount"
	AuthAzureSubscription = "AzureSubscription"
)

// Endpoint reads one service connection's ENDPOINT_* variables. The id is used as the agent writes
// it (a lower-case GUID); only the key after it is upper case.
type Endpoint struct {
	ID  string
	env frontend.LookupEnv
}

// URL is the connection's server URL (the API server for Kubernetes, ARM for Azure Resource Manager).
func (e Endpoint) URL() string { return e.get("ENDPOINT_URL_" + e.ID) }

// Scheme is the authorization scheme, e.g. Token, Kubernetes, ServicePrincipal.
func (e Endpoint) Scheme() string { return e.get("ENDPOINT_AUTH_SCHEME_" + e.ID) }

// Param returns an authorization parameter (these hold the secrets).
func (e Endpoint) Param(key string) string {
	return e.get("ENDPOINT_AUTH_PARAMETER_" + e.ID + "_" + strings.ToUpper(key))
}

// Data returns a data field (not secret).
func (e Endpoint) Data(key string) string {
	return e.get("ENDPOINT_DATA_" + e.ID + "_" + strings.ToUpper(key))
}

// get reads one variable. The agent writes the id as Guid.ToString() (lower case); an input that
// names the connection in upper case is tried that way too.
func (e Endpoint) get(name string) string {
	v, ok := e.env(name)
	if !ok && e.ID != strings.ToLower(e.ID) {
		v, _ = e.env(strings.Replace(name, e.ID, strings.ToLower(e.ID), 1))
	}
	return strings.TrimSpace(v)
}

// Cluster is a client config for the cluster and the secrets in it, which the caller masks before
// printing anything.
type Cluster struct {
	Config  *rest.Config
	Secrets []string
	// Source describes the connection for the log, e.g. "Kubernetes service connection (ServiceAccount)".
	Source string
	// Credential is an Azure Resource Manager connection's Microsoft Entra ID credential (nil for a
	// Kubernetes connection), which also reaches an Azure Monitor workspace.
	Credential azcore.TokenCredential
}

// KubernetesCluster builds the client config for a Kubernetes service connection of any of its three
// authorization types, the way Microsoft's Kubernetes tasks read them: Kubeconfig uses the stored
// kubeconfig (and clusterContext); ServiceAccount and AzureSubscription use the server URL, the
// base64 apiToken and the serviceAccountCertificate (the CA).
func KubernetesCluster(env frontend.LookupEnv, id string) (Cluster, error) {
	e := Endpoint{ID: id, env: env}
	insecure := strings.EqualFold(e.Data("acceptUntrustedCerts"), "true")
	typ := e.Data("authorizationType")
	switch {
	case typ == "" || strings.EqualFold(typ, AuthKubeconfig):
		raw := e.Param("kubeconfig")
		if raw == "" {
			return Cluster{}, fmt.Errorf("kubernetes service connection %s has no kubeconfig (ENDPOINT_AUTH_PARAMETER_%s_KUBECONFIG is empty)", id, id)
		}
		if _, err := clientcmd.Load([]byte(raw)); err != nil { // the parser's words may quote the content
			return Cluster{Secrets: secret.Lines(raw)}, &config.InputError{Input: InputKubernetesConnection, Value: id,
				Allowed: "a Kubernetes service connection whose kubeconfig is kubeconfig YAML"}
		}
		c, err := FromKubeconfig([]byte(raw), e.Param("clusterContext"), insecure)
		c.Source = "Kubernetes service connection (Kubeconfig)"
		return c, unusable(id, c, err)
	case strings.EqualFold(typ, AuthServiceAccount), strings.EqualFold(typ, AuthAzureSubscription):
		c, err := serviceAccount(e, insecure)
		c.Source = "Kubernetes service connection (" + typ + ")"
		if err != nil {
			return c, err
		}
		return c, unusable(id, c, nil)
	}
	return Cluster{}, fmt.Errorf("kubernetes service connection %s: authorization type %q is not supported (want %s, %s or %s)", id, typ, AuthKubeconfig, AuthServiceAccount, AuthAzureSubscription)
}

// unusable is the bad-input error (exit 2, naming the service connection input) for a service
// connection whose credentials parse but cannot be used (kube.Unusable), or err as it is.
func unusable(id string, c Cluster, err error) error {
	if problem := kube.Unusable(c.Config, err); problem != "" {
		return &config.InputError{Input: InputKubernetesConnection, Value: id,
			Allowed: "a Kubernetes service connection whose credentials can be used; in this one " + problem}
	}
	return nil
}

func serviceAccount(e Endpoint, insecure bool) (Cluster, error) {
	server, enc := e.URL(), e.Param("apiToken")
	if server == "" || enc == "" {
		return Cluster{}, fmt.Errorf("kubernetes service connection %s needs a server URL and an apiToken", e.ID)
	}
	token, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return Cluster{Secrets: []string{enc}}, fmt.Errorf("kubernetes service connection %s: apiToken is not base64", e.ID)
	}
	cfg := &rest.Config{Host: server, BearerToken: strings.TrimSpace(string(token))}
	if insecure {
		cfg.Insecure = true
	} else if ca := e.Param("serviceAccountCertificate"); ca != "" {
		cfg.CAData = pemOrBase64(ca)
	}
	return Cluster{Config: cfg, Secrets: []string{enc, cfg.BearerToken}}, nil
}

// pemOrBase64 accepts the CA as the Secret's base64 ca.crt (what the service connection stores) or
// as PEM text.
func pemOrBase64(s string) []byte {
	if strings.Contains(s, "-----BEGIN") {
		return []byte(s)
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	return []byte(s)
}

// FromKubeconfig builds a client config from kubeconfig bytes, optionally switching to context
// (empty: the current context) and skipping TLS verification. It lists the kubeconfig's credentials
// as secrets, in the encodings they could be printed in.
func FromKubeconfig(data []byte, context string, insecure bool) (Cluster, error) {
	kc, err := clientcmd.Load(data)
	if err != nil {
		return Cluster{}, fmt.Errorf("reading kubeconfig: %w", err)
	}
	secrets := secret.Kubeconfig(kc)
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	if insecure {
		overrides.ClusterInfo.InsecureSkipTLSVerify = true
		overrides.ClusterInfo.CertificateAuthorityData = nil
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*kc, context, overrides, nil).ClientConfig()
	if err != nil {
		return Cluster{Secrets: secrets}, fmt.Errorf("reading kubeconfig context %q: %w", context, err)
	}
	if insecure {
		cfg.CAData, cfg.CAFile = nil, ""
	}
	return Cluster{Config: cfg, Secrets: secrets}, nil
}
