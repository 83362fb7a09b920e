package verify

import (
	"net/url"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
)

// RedactedAddress is a gateway address as it may be printed in an error: a password in it shows as
// xxxxx (url.URL.Redacted), and an address that does not parse but may hold credentials is not shown.
func RedactedAddress(raw string) string {
	if r := config.RedactedURL(BaseURL(raw)); r != BaseURL(raw) {
		return r
	}
	return raw
}

// GatewayAddress reports whether raw is a gateway address verify can use: an http(s) URL or a bare
// HOST[:PORT], with no path (verify adds the route paths itself) and no credentials (the address is
// printed in logs and summaries).
func GatewayAddress(raw string) bool {
	u, err := url.Parse(BaseURL(raw))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		strings.Trim(u.Path, "/") == "" && u.RawQuery == ""
}

// ExactHost is the first host the routes serve that is not a wildcard, sent as the Host header so a
// gateway serving named hosts routes the requests; "" keeps the gateway address as the host.
func ExactHost(hosts []string) string {
	for _, h := range hosts {
		if !strings.Contains(h, "*") {
			return h
		}
	}
	return ""
}
