package secret

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/mlcanary/mlcanary/internal/lazyregexp"
)

// Redacted replaces a credential in what mlcanary prints.
const Redacted = "(redacted)"

// Object returns a deep copy of obj (a live object, or any part of one, as JSON decodes it) with
// every value that is or may hold a credential replaced by Redacted, for the one place each
// printer of live objects goes through (plan's diff, refusals that describe a route). The rules,
// each from where such values are put in Kubernetes and Istio objects:
//
//   - a container's literal env values (spec...containers[].env[].value): Kubernetes' own advice is
//     to keep credentials in Secrets, yet "value" is where a literal one lands (core/v1 EnvVar);
//     every one is redacted, whatever its name;
//   - a string `--KEY=VALUE`, `-KEY=VALUE` or `KEY=VALUE` whose KEY is secret-looking (SensitiveKey),
//     e.g. a container argument --upstream-token=…; in a list of strings (args, command), the
//     element after a bare secret-looking flag (`--password`, `VALUE`), as the flag libraries
//     (pflag, argparse) read the two forms alike;
//   - a `;`-separated connection string with a secret-looking part (Azure Storage's
//     AccountKey=…, SharedAccessSignature=…; Azure Service Bus' SharedAccessKey=…): the whole value;
//   - "Bearer …" / "Basic …" values (RFC 6750 §2.1, RFC 7617): the credential after the scheme;
//   - a URL with a user's password (url.URL.Redacted, as config.RedactedURL) or a secret-looking
//     query parameter (Azure SAS `sig=`, `token=`, `code=` of Azure Functions, `api-key=`);
//   - the value under a map key that is a credential-carrying HTTP header (SensitiveHeader): a
//     VirtualService's headers.request.set/add (Istio Headers), a header match's exact value.
func Object(obj map[string]any) map[string]any {
	out, _ := walk(obj).(map[string]any)
	return out
}

func walk(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			switch {
			case k == "env":
				out[k] = redactEnv(e)
			case SensitiveHeader(k) && !isMap(e):
				out[k] = Redacted
			case SensitiveHeader(k):
				out[k] = redactAll(e)
			default:
				out[k] = walk(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = walk(e)
			if i > 0 && isFlagOfSecret(v[i-1]) {
				if s, ok := e.(string); ok && !strings.HasPrefix(s, "-") {
					out[i] = Redacted
				}
			}
		}
		return out
	case string:
		return String(v)
	}
	return v
}

func isMap(v any) bool { _, ok := v.(map[string]any); return ok }

// redactAll replaces every string under v (a header match {exact: …}) by Redacted.
func redactAll(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = redactAll(e)
		}
		return out
	case string:
		return Redacted
	}
	return v
}

// redactEnv redacts every literal value of a container's env list; names and valueFrom stay.
func redactEnv(v any) any {
	list, ok := v.([]any)
	if !ok {
		return walk(v)
	}
	out := make([]any, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			out[i] = walk(e)
			continue
		}
		c := walk(m).(map[string]any)
		if _, has := m["value"]; has {
			c["value"] = Redacted
		}
		out[i] = c
	}
	return out
}

func isFlagOfSecret(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, "-") && !strings.Contains(s, "=") && SensitiveKey(strings.TrimLeft(s, "-"))
}

var (
	keyValue   = lazyregexp.New(`^(-{0,2}[A-Za-z_][A-Za-z0-9_.\-]*)=(.+)$`)
	authScheme = lazyregexp.New(`(?i)^(bearer|basic)\s+\S`)
	camelWord  = lazyregexp.New(`[a-z0-9][A-Z]`)
	secretWord = []string{"token", "password", "passwd", "secret", "key", "apikey", "credential",
		"credentials", "sas", "sig", "connectionstring", "authorization", "bearer", "auth"}
	secretPart = []string{"token", "password", "passwd", "secret", "apikey", "accountkey", "accesskey",
		"credential", "connectionstring", "sharedaccess"}
	sensitiveHeaders = []string{"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
		"api-key", "x-functions-key", "ocp-apim-subscription-key", "x-auth-token", "x-amz-security-token"}
)

// SensitiveKey reports whether a flag or variable name (without its dashes) names a credential: one
// of its words (split at -, _, . and camelCase) is token, password, passwd, secret, key,
// apikey, credential(s), sas, sig, connectionstring, authorization, bearer or auth, or it contains
// token, password, passwd, secret, apikey, accountkey, accesskey, credential, connectionstring or
// sharedaccess (UPSTREAM_TOKEN, --client-secret, AccountKey, SharedAccessSignature).
func SensitiveKey(name string) bool {
	spaced := camelWord.ReplaceAllStringFunc(name, func(s string) string { return s[:1] + "-" + s[1:] })
	lower := strings.ToLower(spaced)
	for _, w := range strings.FieldsFunc(lower, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		for _, s := range secretWord {
			if w == s {
				return true
			}
		}
	}
	joined := strings.NewReplacer("-", "", "_", "", ".", "").Replace(lower)
	for _, s := range secretPart {
		if strings.Contains(joined, s) {
			return true
		}
	}
	return false
}

// SensitiveHeader reports whether an HTTP header name carries a credential: Authorization and
// Proxy-Authorization (RFC 9110 §11.6), Cookie and Set-Cookie (RFC 6265), and the API-key headers
// of common gateways (x-api-key, api-key of Azure OpenAI, x-functions-key of Azure Functions,
// Ocp-Apim-Subscription-Key of Azure API Management, x-auth-token, x-amz-security-token).
func SensitiveHeader(name string) bool {
	lower := strings.ToLower(name)
	for _, h := range sensitiveHeaders {
		if lower == h {
			return true
		}
	}
	return false
}

// String redacts the credential in one string value by the rules of Object; other strings are
// returned as they are.
func String(s string) string {
	if m := keyValue.FindStringSubmatch(s); m != nil && SensitiveKey(strings.TrimLeft(m[1], "-")) {
		return m[1] + "=" + Redacted
	}
	if strings.Contains(s, ";") && strings.Contains(s, "=") {
		for _, part := range strings.Split(s, ";") {
			if k, _, ok := strings.Cut(strings.TrimSpace(part), "="); ok && SensitiveKey(k) {
				return Redacted
			}
		}
	}
	if m := authScheme.FindStringSubmatch(s); m != nil {
		return m[1] + " " + Redacted
	}
	return redactURL(s)
}

// redactURL redacts a URL's password and its secret-looking query values; text that is not such
// a URL is returned as it is.
func redactURL(s string) string {
	if !strings.Contains(s, "@") && !strings.Contains(s, "?") && !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") && strings.Contains(s, "://") {
			return Redacted
		}
		return s
	}
	changed := false
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
		changed = true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if SensitiveKey(k) || strings.EqualFold(k, "code") {
				q[k] = []string{"xxxxx"}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return s
	}
	return u.String()
}

// JSON is Object for one object as JSON (an apply body): body with every credential replaced by
// Redacted, re-encoded. A body that is not a JSON object is an error.
func JSON(body []byte) ([]byte, error) {
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("reading an object to redact: %w", err)
	}
	return json.Marshal(Object(obj))
}
