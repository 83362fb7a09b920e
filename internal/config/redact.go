package config

import (
	"net/url"
	"strings"
)

// RedactedURL is a URL as mlcanary may print it (reports, summaries, errors): a password in it
// shows as xxxxx (url.URL.Redacted, e.g. http://alice:xxxxx@20.1.2.3/score), and text that does
// not parse as a URL but may hold credentials (it has an "@") is not shown at all.
func RedactedURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil && strings.Contains(raw, "@"):
		return "(not shown: it may hold credentials)"
	case err != nil || u.User == nil:
		return raw
	}
	return u.Redacted()
}
