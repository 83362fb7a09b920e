package secret

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
)

// Hidden stands for a credential that a server echoed back in its answer.
const Hidden = "(secret, not shown)"

// minEcho is the shortest secret Unecho replaces: never blank out a letter or two of the text.
const minEcho = 4

// Unecho returns text with every occurrence of each secret (trimmed, of at least 4 bytes) replaced
// by Hidden, the longest first, so a whole "Bearer eyJ…" echoed goes before the token inside it;
// and so is each secret echoed in a common encoding (JSON's "\/" and \uXXXX escapes,
// percent-encoding, HTML references, mixed: encoded), since a proxy that escapes '/' in its JSON
// error would otherwise print a base64 token whole (#10 E7). It is for what a server answers to a request that carried the secrets (an error body: "invalid token:
// Bearer eyJ…"), before anything prints it: the analysis backends' transports (#10 B7) and
// compare's answers (#11).
func Unecho(text string, secrets ...string) string {
	list := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= minEcho {
			list = append(list, s)
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	for _, s := range list {
		if strings.Contains(text, s) {
			text = strings.ReplaceAll(text, s, Hidden)
		}
	}
	if !strings.ContainsAny(text, encodingMarks) {
		return text
	}
	for _, s := range list {
		text = encoded(s).ReplaceAllLiteralString(text, Hidden)
	}
	return text
}

// plainHeaders are request headers whose values are media types, codings and languages (RFC 9110
// §12.5, §8.3, §8.4), never credentials: HeaderSecrets leaves them out, so that an answer's
// "application/json" is not hidden.
var plainHeaders = map[string]bool{"Content-Type": true, "Accept": true, "Accept-Encoding": true,
	"Accept-Language": true, "Content-Encoding": true, "Content-Language": true}

// HeaderSecrets lists what a request's headers may carry as credentials, for Unecho: every value
// (any header may hold one: x-api-key, a tenant's key, a signature) but plainHeaders', and within
// them the parts a server may echo alone: the credential after an auth scheme in a credential header
// (SensitiveHeader, SensitiveKey) or after Bearer/Basic in any ("Bearer eyJ…" → "eyJ…"; of "Basic …"
// also the decoded "user:password" and the password, RFC 7617), and each pair and value of a
// `;`-separated list or a credential header's key=value ("a=1; session=…" → "session=…" and "…",
// a Cookie, RFC 6265). Values shorter than 4 bytes are
// left to the text (Unecho skips them).
func HeaderSecrets(h http.Header) []string {
	var out []string
	for name, values := range h {
		if plainHeaders[http.CanonicalHeaderKey(name)] {
			continue
		}
		credential := SensitiveHeader(name) || SensitiveKey(name)
		for _, v := range values {
			out = append(out, v)
			if scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok && !strings.Contains(scheme, "=") &&
				(credential || authScheme.MatchString(v)) {
				cred = strings.TrimSpace(cred)
				out = append(out, cred)
				if strings.EqualFold(scheme, "basic") {
					if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
						_, pw, _ := strings.Cut(string(dec), ":")
						out = append(out, string(dec), pw)
					}
				}
			}
			if strings.Contains(v, "=") && (credential || strings.Contains(v, ";")) {
				for _, part := range strings.Split(v, ";") {
					_, val, ok := strings.Cut(part, "=")
					if ok {
						out = append(out, part, val)
					}
				}
			}
		}
	}
	return Dedupe(out)
}
