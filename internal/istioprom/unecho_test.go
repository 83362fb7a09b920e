package istioprom

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// staticToken is a credential that always returns one token.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestEchoedCredentialsNeverPrinted: a backend or proxy that echoes the credentials it refuses —
// the whole Authorization header, or the token or password alone — in its error answer, in an
// API error or a plain-text one, never gets them into the query's error: a bearer token (from a
// file or a value), basic auth's password and an Entra ID token are each replaced.
func TestEchoedCredentialsNeverPrinted(t *testing.T) {
	const password = "pa55-w0rd-value"
	for _, apiShaped := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			_, pw, _ := r.BasicAuth()
			echo := "refused " + auth + " token=" + strings.TrimPrefix(auth, "Bearer ") + " password=" + pw
			if apiShaped {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"status":"error","errorType":"unauthorized","error":"` + echo + `"}`))
				return
			}
			http.Error(w, echo, http.StatusUnauthorized)
		}))
		for name, mk := range map[string]func() error{
			"token file": func() error {
				api, err := NewClient(srv.URL, Auth{TokenFile: writeFile(t, "token", secretValue+"\n")})
				if err != nil {
					t.Fatal(err)
				}
				_, _, err = api.Query(context.Background(), "up", time.Now())
				return &QueryError{Endpoint: srv.URL, Query: "up", Err: err}
			},
			"token value": func() error {
				api, _ := NewClient(srv.URL, Auth{Token: secretValue})
				_, _, err := api.Query(context.Background(), "up", time.Now())
				return &QueryError{Endpoint: srv.URL, Query: "up", Err: err}
			},
			"basic auth": func() error {
				api, _ := NewClient(srv.URL, Auth{Username: "reader", Password: password})
				_, _, err := api.Query(context.Background(), "up", time.Now())
				return &QueryError{Endpoint: srv.URL, Query: "up", Err: err}
			},
			"Entra ID token": func() error {
				api, _ := NewAzureClient(srv.URL, "https://prometheus.monitor.azure.com/.default", staticToken(secretValue), nil)
				_, _, err := api.Query(context.Background(), "up", time.Now())
				return &QueryError{Endpoint: srv.URL, Query: "up", Err: err, Azure: true}
			},
		} {
			msg := mk().Error()
			if strings.Contains(msg, secretValue) || strings.Contains(msg, password) || strings.Contains(msg, "cmVhZGVy") {
				t.Errorf("%s (API-shaped %v): the credential is printed: %s", name, apiShaped, msg)
			}
			if !strings.Contains(msg, "401") && !strings.Contains(msg, "unauthorized") {
				t.Errorf("%s (API-shaped %v): %s, want the refusal named", name, apiShaped, msg)
			}
			t.Logf("%s: %s", name, msg)
		}
		srv.Close()
	}
}

// TestEchoedTokenInEscapedJSON: a bearer token with standard base64's '/', '+' and '=' (Grafana
// Cloud's glc_… tokens, many static API keys), echoed by an auth proxy in a JSON error with each
// character escaped as its encoder does ("\/", "\u002b", percent-encoded), never reaches the error
// in any of its forms (#10 second break-it review E7; secret.Unecho's encoded forms).
func TestEchoedTokenInEscapedJSON(t *testing.T) {
	const token = "glc_eyJvIjoiMTIzNDU2Iiwibi/I6InN0YWNrLTEyMzQ1Ni+hbGVydHMiLCJrIjoiYWJjMTIzIn0="
	for name, escape := range map[string]func(string) string{
		"slash": func(s string) string { return strings.ReplaceAll(s, "/", `\/`) },
		"unicode": func(s string) string {
			return strings.NewReplacer("/", `\u002F`, "+", `\u002b`, "=", `\u003d`).Replace(s)
		},
		"percent": func(s string) string {
			return strings.NewReplacer(" ", "+", "/", "%2F", "+", "%2B", "=", "%3D").Replace(s)
		},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"unauthorized","error":"invalid or expired token: ` +
				escape(r.Header.Get("Authorization")) + `"}`))
		}))
		api, err := NewClient(srv.URL, Auth{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Measure(context.Background(), api, Config{Endpoint: srv.URL, Namespace: "ns",
			Blue:  Version{Name: "blue", Workload: "model-blue", Service: "model-blue"},
			Green: Version{Name: "green", Workload: "model-green", Service: "model-green"},
			Start: time.Now().Add(-10 * time.Minute), End: time.Now(), SLO: time.Second})
		srv.Close()
		if err == nil {
			t.Fatalf("%s: no error from a 401", name)
		}
		if msg := err.Error(); strings.Contains(msg, "glc_") || strings.Contains(msg, "YWJjMTIzIn0") || !strings.Contains(msg, "invalid or expired token") {
			t.Errorf("%s: the token is in the error, or the backend's message is lost: %v", name, err)
		}
	}
}
