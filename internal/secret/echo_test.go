package secret

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestHeaderSecretsUnechoed: whatever a request sent in its headers — an Authorization header whole
// or its token alone, basic auth's password or its decoded user:password, an API key, a cookie's
// value — is hidden from an answer that echoes it; media types and short words are left alone.
func TestHeaderSecretsUnechoed(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Authorization", "Bearer eyJhbGciOi.s3cr3t-t0ken")
	h.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:pa55w0rd-x")))
	h.Set("x-api-key", "k3y-value-123")
	h.Set("Cookie", "theme=dark; session=c00kie-s3ss")
	h.Set("x-tenant-signature", "sig-abcdef")
	h.Set("Content-Type", "application/json")
	h.Set("x-short", "ab")
	echo := `{"error":"invalid_token","detail":"token rejected: Bearer eyJhbGciOi.s3cr3t-t0ken", "token": "eyJhbGciOi.s3cr3t-t0ken",
		"user": "alice:pa55w0rd-x", "pw": "pa55w0rd-x", "key": "k3y-value-123", "session": "c00kie-s3ss", "sig": "sig-abcdef",
		"type": "application/json", "ab": true}`
	got := Unecho(echo, HeaderSecrets(h)...)
	for _, s := range []string{"s3cr3t", "pa55w0rd", "k3y-value", "c00kie", "sig-abcdef"} {
		if strings.Contains(got, s) {
			t.Errorf("%q left in %s", s, got)
		}
	}
	for _, s := range []string{"token rejected: " + Hidden, "application/json", `"ab": true`} {
		if !strings.Contains(got, s) {
			t.Errorf("%q missing from %s", s, got)
		}
	}
	if Unecho("a b c", "b", "", " ") != "a b c" {
		t.Error("a secret shorter than 4 bytes was replaced")
	}
}
