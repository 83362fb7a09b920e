package istioprom

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secretValue = "s3cr3t-t0ken-value"

// writeFile writes content to a file in t's temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuth: the token file's content is sent as a bearer token, the password file's as basic auth,
// both trimmed; a refusal shows the backend's message and never the secret.
func TestAuth(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		if strings.Contains(got, "wrong") {
			http.Error(w, "Forbidden: the principal lacks the Monitoring Data Reader role", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		auth Auth
		want string
	}{
		{"none", Auth{}, ""},
		{"bearer", Auth{TokenFile: writeFile(t, "token", secretValue+"\n")}, "Bearer " + secretValue},
		{"basic", Auth{Username: "reader", PasswordFile: writeFile(t, "password", secretValue)}, "Basic cmVhZGVyOnMzY3IzdC10MGtlbi12YWx1ZQ=="},
	} {
		api, err := NewClient(srv.URL, c.auth)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := api.Query(ctx, "up[1m]", time.Now()); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: Authorization %q, want %q", c.name, got, c.want)
		}
	}
	api, _ := NewClient(srv.URL, Auth{TokenFile: writeFile(t, "wrong", "wrong-"+secretValue)})
	_, err := Measure(ctx, api, Config{Endpoint: Redact(srv.URL), Namespace: "ns", Blue: Version{Name: "blue"}, Green: Version{Name: "green"}, End: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "Monitoring Data Reader") || strings.Contains(err.Error(), secretValue) {
		t.Errorf("refusal: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "absent")
	api, _ = NewClient(srv.URL, Auth{TokenFile: missing})
	if _, _, err := api.Query(ctx, "up[1m]", time.Now()); err == nil || !strings.Contains(err.Error(), "reading the bearer token file") {
		t.Errorf("missing token file: %v", err)
	}
	api, _ = NewClient(srv.URL, Auth{TokenFile: writeFile(t, "empty", "\n")})
	if _, _, err := api.Query(ctx, "up[1m]", time.Now()); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty token file: %v", err)
	}
}

// TestRedact: credentials and query strings never reach a message.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:" + secretValue + "@prom.example.com:9090/prefix": "https://user:xxxxx@prom.example.com:9090/prefix",
		"https://prom.example.com/api?token=" + secretValue:             "https://prom.example.com/api?…",
		"http://prometheus.istio-system:9090":                           "http://prometheus.istio-system:9090",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
