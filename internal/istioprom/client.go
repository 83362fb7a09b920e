package istioprom

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// Auth is how requests to the API authenticate: a bearer token read from TokenFile, or basic auth
// as Username with the password read from PasswordFile, or neither. The files are read at every
// request (a token a sidecar rotates stays current) and their contents never appear in an error or a
// log line: errors name the file. Token and Password are the same credentials given as values (a
// CI front end's secret inputs, masked in its log), used when their file is not given.
type Auth struct {
	TokenFile    string
	Username     string
	PasswordFile string
	Token        string
	Password     string
}

// NewClient returns the Prometheus HTTP API at endpoint (the URL Prometheus's own UI is served at,
// e.g. http://prometheus.istio-system:9090) with auth.
func NewClient(endpoint string, auth Auth) (v1.API, error) {
	c, err := api.NewClient(api.Config{Address: endpoint, RoundTripper: &authTransport{auth: auth, next: api.DefaultRoundTripper}})
	if err != nil {
		return nil, fmt.Errorf("the Prometheus client for %s: %w", Redact(endpoint), err)
	}
	return v1.NewAPI(c), nil
}

// authTransport adds the credentials to each request.
type authTransport struct {
	auth Auth
	next http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	a := t.auth
	if a.TokenFile == "" && a.Token == "" && a.Username == "" {
		return t.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	switch {
	case a.TokenFile != "" || a.Token != "":
		token, err := readSecret(a.TokenFile, "bearer token")
		if err != nil {
			return nil, err
		}
		if a.TokenFile == "" {
			token = a.Token
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return unecho(t.next, req, token)
	default:
		password, err := readSecret(a.PasswordFile, "password")
		if err != nil {
			return nil, err
		}
		if a.PasswordFile == "" {
			password = a.Password
		}
		req.SetBasicAuth(a.Username, password)
		return unecho(t.next, req, password)
	}
}

// readSecret reads a credential file, trimmed of surrounding whitespace (a trailing newline), and
// refuses an empty one. Its errors name the file, never its content.
func readSecret(path, what string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the %s file: %w", what, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("the %s file %s is empty", what, path)
	}
	return s, nil
}

// Redact is endpoint for a message: any user:password it holds replaced by url.URL.Redacted's
// "xxxxx", and its query dropped (a token= or sig= may be in it).
func Redact(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "the Prometheus URL"
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.Redacted()
}
