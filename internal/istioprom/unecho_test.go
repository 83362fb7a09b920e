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
