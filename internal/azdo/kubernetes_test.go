package azdo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

const endpointID = "5a3c1e07-aaaa-4bbb-8ccc-0123456789ab"

var serviceAccountsGVR = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}

// serviceAccountToken creates ServiceAccount ns/name (allowed everything in ns when bind is true)
// and returns a real token for it from the TokenRequest API.
func serviceAccountToken(t *testing.T, e *testenv.Env, ns, name string, bind bool) string {
	t.Helper()
	token, err := e.ServiceAccountToken(context.Background(), ns, name, bind)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// canList lists ServiceAccounts in ns with cfg against the real API server.
func canList(cfg *rest.Config, ns string) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_, err = dyn.Resource(serviceAccountsGVR).Namespace(ns).List(context.Background(), metav1.ListOptions{})
	return err
}

func TestKubernetesConnectionAgainstAPIServer(t *testing.T) {
	e := testenv.Start(t)
	kubeconfig, err := os.ReadFile(e.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	token := serviceAccountToken(t, e, "default", "pipeline", true)
	unbound := serviceAccountToken(t, e, "default", "nobody", false)
	ca := base64.StdEncoding.EncodeToString(e.Config.CAData)
	kc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	noCA := kc.DeepCopy()
	for _, c := range noCA.Clusters {
		c.CertificateAuthorityData = nil
	}
	noCAData, err := clientcmd.Write(*noCA)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring of the API call's error; "" means it must succeed
	}{
		{"kubeconfig", map[string]string{"DATA_AUTHORIZATIONTYPE": "Kubeconfig", "AUTH_PARAMETER_KUBECONFIG": string(kubeconfig)}, ""},
		{"kubeconfig default type", map[string]string{"AUTH_PARAMETER_KUBECONFIG": string(kubeconfig)}, ""},
		{"kubeconfig untrusted cert rejected", map[string]string{"AUTH_PARAMETER_KUBECONFIG": string(noCAData)}, "certificate"},
		{"kubeconfig acceptUntrustedCerts", map[string]string{"AUTH_PARAMETER_KUBECONFIG": string(noCAData), "DATA_ACCEPTUNTRUSTEDCERTS": "true"}, ""},
		{"service account", map[string]string{"DATA_AUTHORIZATIONTYPE": "ServiceAccount", "AUTH_PARAMETER_APITOKEN": base64.StdEncoding.EncodeToString([]byte(token)), "AUTH_PARAMETER_SERVICEACCOUNTCERTIFICATE": ca}, ""},
		{"service account PEM CA", map[string]string{"DATA_AUTHORIZATIONTYPE": "ServiceAccount", "AUTH_PARAMETER_APITOKEN": base64.StdEncoding.EncodeToString([]byte(token)), "AUTH_PARAMETER_SERVICEACCOUNTCERTIFICATE": string(e.Config.CAData)}, ""},
		{"azure subscription", map[string]string{"DATA_AUTHORIZATIONTYPE": "AzureSubscription", "AUTH_PARAMETER_APITOKEN": base64.StdEncoding.EncodeToString([]byte(token)), "AUTH_PARAMETER_SERVICEACCOUNTCERTIFICATE": ca}, ""},
		{"service account without RBAC", map[string]string{"DATA_AUTHORIZATIONTYPE": "ServiceAccount", "AUTH_PARAMETER_APITOKEN": base64.StdEncoding.EncodeToString([]byte(unbound)), "AUTH_PARAMETER_SERVICEACCOUNTCERTIFICATE": ca}, "forbidden"},
		{"service account wrong token", map[string]string{"DATA_AUTHORIZATIONTYPE": "ServiceAccount", "AUTH_PARAMETER_APITOKEN": base64.StdEncoding.EncodeToString([]byte("not-a-token")), "AUTH_PARAMETER_SERVICEACCOUNTCERTIFICATE": ca}, "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"ENDPOINT_URL_" + endpointID: e.Config.Host}
			for k, v := range tt.env {
				kind, key, _ := strings.Cut(k, "_")
				if kind == "AUTH" {
					key = strings.TrimPrefix(key, "PARAMETER_")
					env["ENDPOINT_AUTH_PARAMETER_"+endpointID+"_"+key] = v
				} else {
					env["ENDPOINT_DATA_"+endpointID+"_"+key] = v
				}
			}
			c, err := KubernetesCluster(mapEnv(env), endpointID)
			if err != nil {
				t.Fatal(err)
			}
			err = canList(c.Config, "default")
			wanted := err != nil && (strings.Contains(err.Error(), tt.wantErr) || tt.wantErr == "forbidden" && apierrors.IsForbidden(err))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("listing with %s: %v", c.Source, err)
			case tt.wantErr != "" && !wanted:
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.HasPrefix(tt.name, "service account") && !contains(c.Secrets, c.Config.BearerToken) {
				t.Errorf("the decoded token is not listed as a secret")
			}
		})
	}
}

func TestKubeconfigContextAndSecrets(t *testing.T) {
	certPEM, keyPEM := clientCertificate(t) // a client certificate that loads: an unusable one is bad input
	certB64, keyB64 := base64.StdEncoding.EncodeToString(certPEM), base64.StdEncoding.EncodeToString(keyPEM)
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://a.example:6443"}
- name: b
  cluster: {server: "https://b.example:6443"}
users:
- name: ua
  user: {token: "token-of-a"}
- name: ub
  user: {client-certificate-data: ` + certB64 + `, client-key-data: ` + keyB64 + `}
- name: uc
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --client-secret, exec-arg-secret]
      env: [{name: AZURE_CLIENT_SECRET, value: exec-env-secret}, {name: AWS_PROFILE, value: default}]
contexts:
- name: ctx-a
  context: {cluster: a, user: ua}
- name: ctx-b
  context: {cluster: b, user: ub}
current-context: ctx-a
`
	env := mapEnv(map[string]string{
		"ENDPOINT_AUTH_PARAMETER_" + endpointID + "_KUBECONFIG":     kubeconfig,
		"ENDPOINT_AUTH_PARAMETER_" + endpointID + "_CLUSTERCONTEXT": "ctx-b",
	})
	c, err := KubernetesCluster(env, endpointID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Config.Host != "https://b.example:6443" || string(c.Config.KeyData) != string(keyPEM) {
		t.Errorf("clusterContext not applied: host %s", c.Config.Host)
	}
	for _, s := range []string{"token-of-a", strings.Split(string(keyPEM), "\n")[1], keyB64, "exec-arg-secret", "exec-env-secret"} {
		if !contains(c.Secrets, s) {
			t.Errorf("secret %q not listed in %q", s, c.Secrets)
		}
	}
	if contains(c.Secrets, "default") {
		t.Errorf("a short exec env value is masked: %q", c.Secrets)
	}
	upper, err := KubernetesCluster(env, strings.ToUpper(endpointID))
	if err != nil || upper.Config.Host != c.Config.Host {
		t.Errorf("an upper-case connection id did not find the lower-case variables: %v", err)
	}
	if _, err := KubernetesCluster(mapEnv(map[string]string{"ENDPOINT_DATA_" + endpointID + "_AUTHORIZATIONTYPE": "Certificate"}), endpointID); err == nil {
		t.Error("an unknown authorization type was accepted")
	}
}

// clientCertificate returns a self-signed client certificate and its key, PEM-encoded.
func clientCertificate(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pipeline"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// A service connection whose kubeconfig or certificate parses but cannot be used is bad input
// naming the service connection input, never quoting the kubeconfig.
func TestKubernetesConnectionUnusable(t *testing.T) {
	const tok = "T0kenValue"
	for name, env := range map[string]map[string]string{
		"kubeconfig missing current context": {"ENDPOINT_AUTH_PARAMETER_" + endpointID + "_KUBECONFIG": "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters: []\ncontexts: []\nusers: []\n"},
		"kubeconfig cluster without server":  {"ENDPOINT_AUTH_PARAMETER_" + endpointID + "_KUBECONFIG": "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: " + tok + "}\n"},
		"kubeconfig CA not a certificate":    {"ENDPOINT_AUTH_PARAMETER_" + endpointID + "_KUBECONFIG": "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: bm90LWEtY2VydA==}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: " + tok + "}\n"},
		"kubeconfig not YAML":                {"ENDPOINT_AUTH_PARAMETER_" + endpointID + "_KUBECONFIG": "users: [ {name: u, user: {token: " + tok + "}\n"},
		"service account CA not a certificate": {"ENDPOINT_URL_" + endpointID: "https://127.0.0.1:1", "ENDPOINT_DATA_" + endpointID + "_AUTHORIZATIONTYPE": "ServiceAccount",
			"ENDPOINT_AUTH_PARAMETER_" + endpointID + "_APITOKEN": base64.StdEncoding.EncodeToString([]byte(tok)), "ENDPOINT_AUTH_PARAMETER_" + endpointID + "_SERVICEACCOUNTCERTIFICATE": "bm90LWEtY2VydA=="},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := KubernetesCluster(mapEnv(env), endpointID)
			var in *config.InputError
			if !errors.As(err, &in) || in.Input != InputKubernetesConnection || strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "\n") ||
				strings.Contains(name, "without server") && !strings.Contains(err.Error(), "server address") {
				t.Fatalf("error = %v, want one line, an InputError naming %s, without the credentials", err, InputKubernetesConnection)
			}
			t.Log(err)
		})
	}
}
