package secret

import (
	"encoding/base64"
	"testing"

	"github.com/google/go-cmp/cmp"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestKubeconfig(t *testing.T) {
	key := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKfakeprivatekey\nshort\n-----END EC PRIVATE KEY-----\n"
	cfg := clientcmdapi.NewConfig()
	cfg.AuthInfos["b-exec"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		Command: "kubelogin",
		Args:    []string{"get-token", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--client-secret=flagvalue1", "spn", "arg-s3cret-value"},
		Env: []clientcmdapi.ExecEnvVar{
			{Name: "AWS_PROFILE", Value: "default"}, // 7 bytes: an ordinary word, not masked
			{Name: "AZURE_CLIENT_SECRET", Value: "env-s3cret-value"},
			{Name: "SHORT", Value: "abc"},
		},
	}}
	cfg.AuthInfos["a-static"] = &clientcmdapi.AuthInfo{Token: "tok-123", Password: "pw", ClientKeyData: []byte(key)}
	cfg.AuthInfos["c-provider"] = &clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{
		Name: "oidc", Config: map[string]string{"refresh-token": "refresh-value", "id-token": "tok-123"}}}
	cfg.AuthInfos["d-empty"] = &clientcmdapi.AuthInfo{}
	want := []string{
		"tok-123", "pw", base64.StdEncoding.EncodeToString([]byte(key)), "MHcCAQEEIKfakeprivatekey",
		"get-token", "6dae42f8-4368-4678-94ff-3960e28e3630", "arg-s3cret-value", "env-s3cret-value",
		"refresh-value",
	}
	if d := cmp.Diff(want, Kubeconfig(cfg)); d != "" {
		t.Errorf("Kubeconfig (-want +got):\n%s", d)
	}
}

func TestAuthInfoNil(t *testing.T) {
	if got := AuthInfo(nil); got != nil {
		t.Errorf("AuthInfo(nil) = %q", got)
	}
}

func TestLines(t *testing.T) {
	got := Lines("apiVersion: v1\r\n  token: abcdefgh  \n-----BEGIN X-----\nv1\n\n")
	if d := cmp.Diff([]string{"apiVersion: v1", "token: abcdefgh"}, got); d != "" {
		t.Errorf("Lines (-want +got):\n%s", d)
	}
}
