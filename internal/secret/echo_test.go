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

// TestUnechoEncodedForms: a secret echoed in a common encoding — JSON with '/' escaped as "\/"
// (PHP's json_encode), \uXXXX escapes in either case, percent-encoding, '+' for a space, HTML
// character references, or a mix of them — is hidden as its plain form is; text around it stays.
func TestUnechoEncodedForms(t *testing.T) {
	t.Parallel()
	const token = "glc_eyJvIjoiMTIz/I6InN0+hbGVy<&>=="
	for name, echo := range map[string]string{
		"json slash":    strings.ReplaceAll(token, "/", `\/`),
		"json unicode":  `glc_eyJvIjoiMTIz\u002fI6InN0\u002BhbGVy\u003c\u0026\u003E\u003d=`,
		"percent":       "glc_eyJvIjoiMTIz%2FI6InN0%2bhbGVy%3C%26%3E%3D%3D",
		"html":          "glc_eyJvIjoiMTIz&#47;I6InN0&#x2b;hbGVy&lt;&amp;&gt;&#61;=",
		"every char":    `\u0067%6c&#99;_eyJvIjoiMTIz\/I6InN0+hbGVy<&>==`,
		"space as plus": "Bearer+glc_eyJvIjoiMTIz%2FI6InN0%2BhbGVy%3C%26%3E%3D%3D",
	} {
		got := Unecho(`{"error":"bad token: `+echo+`","ok":true}`, "Bearer "+token, token)
		if got != `{"error":"bad token: `+Hidden+`","ok":true}` {
			t.Errorf("%s: %s", name, got)
		}
	}
	if got := Unecho(`a\/b %2F 50% &amp; tokens`, "s3cr3t/x"); got != `a\/b %2F 50% &amp; tokens` {
		t.Errorf("text without the secret changed: %s", got)
	}
}

// TestUnechoManySecrets: more distinct secrets than encoded's cache holds (a requests file with a
// token a line) are each still hidden in their encoded forms.
func TestUnechoManySecrets(t *testing.T) {
	t.Parallel()
	for i := range 2 * maxCached {
		tok := strings.Repeat("x", 8) + "/" + string(rune('a'+i%26)) + strings.Repeat("y", i)
		if got := Unecho(`{"e":"`+strings.ReplaceAll(tok, "/", `\/`)+`"}`, tok); got != `{"e":"`+Hidden+`"}` {
			t.Fatalf("secret %d: %s", i, got)
		}
	}
}
