package azdo

import (
	"context"
	"encoding/base64"
	"os"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

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
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("listing with %s: %v", c.Source, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) && !(tt.wantErr == "forbidden" && apierrors.IsForbidden(err))):
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.HasPrefix(tt.name, "service account") && !contains(c.Secrets, c.Config.BearerToken) {
				t.Errorf("the decoded token is not listed as a secret")
			}
		})
	}
}

func TestKubeconfigContextAndSecrets(t *testing.T) {
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
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5LWRhdGEtb2YtYg==}
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
	if c.Config.Host != "https://b.example:6443" || string(c.Config.KeyData) != "key-data-of-b" {
		t.Errorf("clusterContext not applied: host %s", c.Config.Host)
	}
	for _, s := range []string{"token-of-a", "key-data-of-b", "a2V5LWRhdGEtb2YtYg==", "exec-arg-secret", "exec-env-secret"} {
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
