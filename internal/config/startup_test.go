package config

import (
	"regexp"
	"strings"
	"testing"
)

// TestNameLoopsMatchRegexps: isObjectName and isHeaderName, loops so that no regexp is compiled at
// process start (#12), accept exactly what the regexps they replaced accept.
func TestNameLoopsMatchRegexps(t *testing.T) {
	objectName := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)
	headerName := regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	alphabet := []string{"a", "Z", "0", ".", "_", "-", ":", "/", " ", "é", "\n", "ſ"}
	cases := []string{"", strings.Repeat("a", 252), strings.Repeat("a", 253), strings.Repeat("a", 254), "a" + strings.Repeat("-", 252), "x-api-version"}
	for _, a := range alphabet {
		for _, b := range alphabet {
			for _, c := range alphabet {
				cases = append(cases, a, a+b, a+b+c, a+b+c+"a", "a"+a+b+c)
			}
		}
	}
	for _, s := range cases {
		if got, want := isObjectName(s), objectName.MatchString(s); got != want {
			t.Errorf("isObjectName(%q) = %v, the regexp says %v", s, got, want)
		}
		if got, want := isHeaderName(s), headerName.MatchString(s); got != want {
			t.Errorf("isHeaderName(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}
