package aks_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/aks"
	"github.com/mlcanary/mlcanary/internal/aks/akstest"
)

const userKubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n# user\n"

func options(s *akstest.Server) *azcore.ClientOptions {
	return &azcore.ClientOptions{Transport: s.Client()}
}

// certificatePEM is a self-signed certificate with its private key, as a service connection stores it.
func certificatePEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mlcanary-spn"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func TestKubeconfigThroughEachScheme(t *testing.T) {
	s := akstest.Start(t)
	s.Kubeconfigs["clusterUser"] = []byte(userKubeconfig)
	s.Kubeconfigs["clusterAdmin"] = []byte("admin kubeconfig")
	t.Setenv("SYSTEM_OIDCREQUESTURI", s.URL+"/oidc")
	base := aks.Connection{ID: s.ConnectionID, TenantID: s.Tenant, ClientID: s.ClientID, AuthorityHost: s.URL + "/"}
	tests := []struct {
		name  string
		conn  func(c aks.Connection) aks.Connection
		admin bool
		want  string
	}{
		{"client secret", func(c aks.Connection) aks.Connection { c.Scheme, c.Secret = "ServicePrincipal", s.Secret; return c }, false, userKubeconfig},
		{"certificate", func(c aks.Connection) aks.Connection {
			c.Scheme, c.Certificate = "ServicePrincipal", certificatePEM(t)
			return c
		}, true, "admin kubeconfig"},
		{"workload identity federation", func(c aks.Connection) aks.Connection {
			c.Scheme, c.SystemAccessToken = "WorkloadIdentityFederation", s.SystemToken
			return c
		}, false, userKubeconfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := aks.Credential(tt.conn(base), options(s))
			if err != nil {
				t.Fatal(err)
			}
			got, err := aks.Kubeconfig(context.Background(), cred, aks.Cluster{ARMURL: s.URL + "/", SubscriptionID: s.Subscription,
				ResourceGroup: s.ResourceGroup, Name: s.Cluster, Admin: tt.admin}, options(s))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("kubeconfig %q, want %q", got, tt.want)
			}
		})
	}
	if !slices.Contains(s.Scopes(), s.URL+"/.default") {
		t.Errorf("no ARM-scoped token was requested: %v", s.Scopes())
	}
}

func TestKubeconfigErrors(t *testing.T) {
	s := akstest.Start(t)
	t.Setenv("SYSTEM_OIDCREQUESTURI", s.URL+"/oidc")
	conn := aks.Connection{ID: s.ConnectionID, Scheme: "ServicePrincipal", TenantID: s.Tenant, ClientID: s.ClientID, Secret: s.Secret, AuthorityHost: s.URL}
	cluster := aks.Cluster{ARMURL: s.URL, SubscriptionID: s.Subscription, ResourceGroup: s.ResourceGroup, Name: s.Cluster}
	tests := []struct {
		name    string
		conn    func(aks.Connection) aks.Connection
		cluster func(aks.Cluster) aks.Cluster
		want    string
	}{
		{"wrong secret", func(c aks.Connection) aks.Connection { c.Secret = "wrong"; return c }, nil, "AADSTS7000215"},
		{"wrong job token for federation", func(c aks.Connection) aks.Connection {
			c.Scheme, c.SystemAccessToken = "WorkloadIdentityFederation", "stale"
			return c
		}, nil, "401"},
		{"unknown cluster", nil, func(c aks.Cluster) aks.Cluster { c.Name = "other"; return c }, "ResourceNotFound"},
		{"local accounts disabled", nil, func(c aks.Cluster) aks.Cluster { c.Admin = true; return c }, "disable local accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, cl := conn, cluster
			if tt.conn != nil {
				c = tt.conn(c)
			}
			if tt.cluster != nil {
				cl = tt.cluster(cl)
			}
			cred, err := aks.Credential(c, options(s))
			if err == nil {
				_, err = aks.Kubeconfig(context.Background(), cred, cl, options(s))
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), s.Secret) || strings.Contains(err.Error(), s.SystemToken) {
				t.Errorf("error reveals a secret: %v", err)
			}
		})
	}
	if _, err := aks.Credential(aks.Connection{Scheme: "PublishProfile"}, nil); err == nil {
		t.Error("an unsupported scheme was accepted")
	}
}

type recorder struct{ auth []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

// TestUseTokenReplacesKubelogin checks an exec-plugin config gets AKS-scoped Entra ID tokens from the
// connection's credential, masked before use, instead of running kubelogin.
func TestUseTokenReplacesKubelogin(t *testing.T) {
	s := akstest.Start(t)
	cred, err := aks.Credential(aks.Connection{ID: "c", Scheme: "ServicePrincipal", TenantID: s.Tenant, ClientID: s.ClientID, Secret: s.Secret, AuthorityHost: s.URL}, options(s))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: "https://aks.example:443", ExecProvider: &clientcmdExec}
	if !aks.NeedsToken(cfg) {
		t.Fatal("an exec-plugin config does not need a token")
	}
	var masked []string
	if err := aks.UseToken(context.Background(), cfg, cred, func(v string) { masked = append(masked, v) }); err != nil {
		t.Fatal(err)
	}
	if aks.NeedsToken(cfg) {
		t.Error("the exec plugin is still configured")
	}
	if !slices.Equal(s.Scopes(), []string{aks.ServerAppScope}) {
		t.Errorf("scopes %v, want only %s", s.Scopes(), aks.ServerAppScope)
	}
	rec := &recorder{}
	rt := cfg.WrapTransport(rec)
	req, _ := http.NewRequest(http.MethodGet, cfg.Host+"/version", nil)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if len(masked) != 1 || len(rec.auth) != 1 || rec.auth[0] != "Bearer "+masked[0] {
		t.Errorf("masked %v, sent %v: want the masked AKS token as the bearer", masked, rec.auth)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("the caller's request was modified")
	}
}

// TestKubeconfigThroughManagedIdentity uses the App Service managed identity protocol, which
// azidentity selects from IDENTITY_ENDPOINT and IDENTITY_HEADER (an agent VM uses IMDS, which a test
// cannot reach).
func TestKubeconfigThroughManagedIdentity(t *testing.T) {
	s := akstest.Start(t)
	s.Kubeconfigs["clusterUser"] = []byte(userKubeconfig)
	t.Setenv("IDENTITY_ENDPOINT", s.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", s.IdentityHeader)
	cred, err := aks.Credential(aks.Connection{ID: "msi", Scheme: "ManagedServiceIdentity"}, options(s))
	if err != nil {
		t.Fatal(err)
	}
	got, err := aks.Kubeconfig(context.Background(), cred, aks.Cluster{ARMURL: s.URL, SubscriptionID: s.Subscription,
		ResourceGroup: s.ResourceGroup, Name: s.Cluster}, options(s))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != userKubeconfig {
		t.Errorf("kubeconfig %q", got)
	}
}
