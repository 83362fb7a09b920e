// Package akstest is a local HTTPS server for tests that speaks the documented Azure endpoints mlcanary
// calls for AKS: Microsoft Entra ID's OpenID configuration and token endpoint (client secret, client
// assertion), the Azure DevOps OIDC token endpoint behind SYSTEM_OIDCREQUESTURI, and ARM's
// listClusterUserCredential / listClusterAdminCredential actions. It checks what a real service
// checks (credentials, bearer tokens, scopes, API version) and records what it issued.
package akstest

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// PublicAuthorityHost is Microsoft Entra ID's host in Azure's public cloud, which azidentity asks
// when no authority host is configured. The server's certificate names it (and 127.0.0.1), so a
// process given the certificate (SSL_CERT_FILE) and a proxy tunnelling that host to the server
// (HTTPS_PROXY) authenticates with its defaults, as on a GitHub runner.
const PublicAuthorityHost = "login.microsoftonline.com"

// Server is the fake cloud. Set the exported fields before the code under test runs.
type Server struct {
	*httptest.Server
	// Tenant and ClientID are the service principal the token endpoint accepts.
	Tenant, ClientID string
	// Secret is the accepted client secret. A client_assertion is accepted when it equals OIDCToken
	// (workload identity federation) or is a JWT naming a certificate thumbprint (certificate).
	Secret string
	// SystemToken is the job access token the OIDC endpoint requires; OIDCToken is what it returns.
	SystemToken, OIDCToken string
	// ConnectionID is the service connection the OIDC endpoint expects.
	ConnectionID string
	// IdentityHeader is the secret header the managed identity endpoint (App Service style, at
	// /msi/token, for IDENTITY_ENDPOINT) requires.
	IdentityHeader string
	// Kubeconfigs are served by name: "clusterUser", "clusterAdmin".
	Kubeconfigs map[string][]byte
	// Subscription, ResourceGroup and Cluster locate the one managed cluster.
	Subscription, ResourceGroup, Cluster string

	mu     sync.Mutex
	issued map[string]string // token → scope
	calls  []string
}

// Start starts the server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB) *Server {
	s := &Server{Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47", ClientID: "spn-client-id", Secret: "spn-s3cret-value",
		SystemToken: "job-access-token-xyz", IdentityHeader: "msi-header-secret", OIDCToken: "header.oidc-federated-token.signature", ConnectionID: "arm-conn-1",
		Subscription: "sub-1", ResourceGroup: "rg-1", Cluster: "aks-1", Kubeconfigs: map[string][]byte{}, issued: map[string]string{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	cert, err := selfSigned(PublicAuthorityHost, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// Issued returns every access token the server handed out, for tests that check none is printed.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for tk := range s.issued {
		out = append(out, tk)
	}
	return out
}

// IssuedFor returns the access tokens the server handed out for scope.
func (s *Server) IssuedFor(scope string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for tk, sc := range s.issued {
		if sc == scope {
			out = append(out, tk)
		}
	}
	return out
}

// Scopes returns the scopes tokens were issued for, in no particular order.
func (s *Server) Scopes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, sc := range s.issued {
		out = append(out, sc)
	}
	return out
}

// Calls lists the requests served as "METHOD path", in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/"+s.Tenant+"/v2.0/.well-known/openid-configuration":
		s.openID(w, r)
	case p == "/"+s.Tenant+"/oauth2/v2.0/token" && r.Method == http.MethodPost:
		s.token(w, r)
	case p == "/oidc" && r.Method == http.MethodPost:
		s.oidc(w, r)
	case p == "/msi/token" && r.Method == http.MethodGet:
		s.managedIdentity(w, r)
	case strings.HasPrefix(p, "/subscriptions/") && r.Method == http.MethodPost:
		s.credentials(w, r)
	default:
		http.NotFound(w, r)
	}
}

// openID is the tenant's OpenID configuration, its endpoints on the host it was asked under: the
// server's loopback address, or PublicAuthorityHost when reached through a proxy as the public cloud.
func (s *Server) openID(w http.ResponseWriter, r *http.Request) {
	base := "https://" + r.Host + "/" + s.Tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"issuer":                 base + "/v2.0",
	})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	assertion := f.Get("client_assertion")
	okSecret := s.Secret != "" && f.Get("client_secret") == s.Secret
	okAssertion := assertion != "" && (assertion == s.OIDCToken || certificateAssertion(assertion))
	switch {
	case f.Get("grant_type") != "client_credentials":
		oauthError(w, "unsupported_grant_type", "want client_credentials")
	case f.Get("client_id") != s.ClientID:
		oauthError(w, "unauthorized_client", "AADSTS700016: unknown application "+f.Get("client_id"))
	case !okSecret && !okAssertion:
		oauthError(w, "invalid_client", "AADSTS7000215: invalid client secret or assertion")
	default:
		scope := strings.TrimSpace(strings.ReplaceAll(f.Get("scope"), "offline_access", ""))
		scope = strings.TrimSpace(strings.ReplaceAll(scope, "openid", ""))
		scope = strings.TrimSpace(strings.ReplaceAll(scope, "profile", ""))
		tk := "eyJ0eXAiOiJKV1QifQ." + random() + ".sig"
		s.mu.Lock()
		s.issued[tk] = scope
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": tk})
	}
}

// managedIdentity speaks the App Service managed identity protocol: GET with the X-IDENTITY-HEADER
// secret and ?resource=, answered with a token for that resource.
func (s *Server) managedIdentity(w http.ResponseWriter, r *http.Request) {
	resource := r.URL.Query().Get("resource")
	if r.Header.Get("X-IDENTITY-HEADER") != s.IdentityHeader || resource == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"statusCode": 400, "message": "missing or wrong X-IDENTITY-HEADER or resource"})
		return
	}
	tk := "eyJ0eXAiOiJKV1QifQ." + random() + ".msi"
	s.mu.Lock()
	s.issued[tk] = strings.TrimSuffix(resource, "/") + "/.default"
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tk, "expires_in": 3600, "resource": resource, "token_type": "Bearer"})
}

func (s *Server) oidc(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.Header.Get("Authorization") != "Bearer "+s.SystemToken:
		w.WriteHeader(http.StatusUnauthorized)
	case q.Get("serviceConnectionId") != s.ConnectionID || q.Get("api-version") == "":
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "unknown service connection"})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"oidcToken": s.OIDCToken})
	}
}

func (s *Server) credentials(w http.ResponseWriter, r *http.Request) {
	armScope := s.URL + "/.default"
	tk := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	scope, ok := s.issued[tk]
	s.mu.Unlock()
	if !ok || scope != armScope {
		writeJSON(w, http.StatusUnauthorized, armError("InvalidAuthenticationToken", "the access token is invalid or not for "+armScope))
		return
	}
	prefix := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s/", s.Subscription, s.ResourceGroup, s.Cluster)
	action, found := strings.CutPrefix(r.URL.Path, prefix)
	name := map[string]string{"listClusterUserCredential": "clusterUser", "listClusterAdminCredential": "clusterAdmin"}[action]
	switch {
	case r.URL.Query().Get("api-version") == "":
		writeJSON(w, http.StatusBadRequest, armError("MissingApiVersionParameter", "The api-version query parameter is required."))
	case !found || name == "":
		writeJSON(w, http.StatusNotFound, armError("ResourceNotFound", "The Resource 'Microsoft.ContainerService/managedClusters' was not found."))
	case s.Kubeconfigs[name] == nil:
		writeJSON(w, http.StatusBadRequest, armError("BadRequest", "Getting static credential is not allowed because this cluster is set to disable local accounts."))
	default:
		writeJSON(w, http.StatusOK, map[string]any{"kubeconfigs": []any{map[string]any{"name": name, "value": base64.StdEncoding.EncodeToString(s.Kubeconfigs[name])}}})
	}
}

// certificateAssertion reports whether a is a JWT whose header names a certificate thumbprint, as a
// certificate credential's assertion does (the signature is not checked).
func certificateAssertion(a string) bool {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return false
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var h map[string]any
	if json.Unmarshal(header, &h) != nil {
		return false
	}
	_, x5t := h["x5t"]
	_, x5t256 := h["x5t#S256"]
	return x5t || x5t256
}

func armError(code, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": msg}}
}

func oauthError(w http.ResponseWriter, code, desc string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func random() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
