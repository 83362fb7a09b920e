package istioprom

import (
	"bytes"
	"io"
	"net/http"

	"github.com/mlcanary/mlcanary/internal/secret"
)

// maxErrorBody is how much of an error answer's body unecho reads; the rest is dropped (messages
// repeat at most maxDetail of it).
const maxErrorBody = 64 << 10

// unecho sends req with its Authorization header and, when the backend answers with an error
// (HTTP 400 or above), removes that header's value — and the token or password in it — from the
// answer's body before anything reads it (secret.Unecho): a backend or proxy that echoes the
// credentials it refused ("invalid token: Bearer eyJ…") never gets them into an error message, a
// log or a summary.
func unecho(next http.RoundTripper, req *http.Request, secrets ...string) (*http.Response, error) {
	resp, err := next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 || resp.Body == nil {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	if rerr != nil {
		body = nil
	}
	text := secret.Unecho(string(body), append([]string{req.Header.Get("Authorization")}, secrets...)...)
	resp.Body = io.NopCloser(bytes.NewReader([]byte(text)))
	resp.ContentLength = int64(len(text))
	resp.Header.Del("Content-Length")
	return resp, nil
}
