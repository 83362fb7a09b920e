package app

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAnalyzeNeverPrintsAnEchoedToken (found by the #10 break-it review, B7): a metrics backend
// that answers 401 repeating the Authorization header it refused never gets the bearer token into
// analyze's output, text or JSON, nor into its error.
func TestAnalyzeNeverPrintsAnEchoedToken(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.echoed-secret-token"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid or expired token: "+r.Header.Get("Authorization"), http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, format := range []string{"text", "json"} {
		code, stdout, stderr := runCLIEnv(nil, "analyze", "--prometheus-url", srv.URL, "--prometheus-token-file", file, "--since", since, "-o", format)
		if code != ExitFailed || strings.Contains(stdout+stderr, "echoed-secret-token") || !strings.Contains(stderr, "(secret, not shown)") {
			t.Errorf("-o %s: exit %d, want 1 and the token hidden:\n%s\n%s", format, code, stdout, stderr)
		}
	}
}
