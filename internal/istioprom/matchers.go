package istioprom

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mlcanary/mlcanary/internal/lazyregexp"
)

// ownLabels are the labels Measure's selectors and counts depend on: a matcher of the user's on one
// of them would change what is measured, not scope it.
var ownLabels = []string{"reporter", "destination_workload", "destination_workload_namespace", "destination_service_name",
	"destination_service_namespace", "response_code", "response_flags", "le"}

var labelName = lazyregexp.New(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ParseMatchers reads PromQL label matchers separated by commas, as a person scopes the queries to
// one cluster or Prometheus (`cluster="aks-prod"`, `cluster=aks-prod, prometheus!~"dev.*"`): a label
// name, one of = != =~ !~, and a value in double, single or back quotes, or bare (no comma, quote,
// brace or space). It returns them as PromQL (`cluster="aks-prod"`), to add to every selector. A
// label Measure selects or counts by (ownLabels), a name starting with __, or a regular expression
// RE2 refuses is an error naming it; "" is no matcher.
func ParseMatchers(s string) ([]string, error) {
	var out []string
	rest := strings.TrimSpace(s)
	for rest != "" {
		i := strings.IndexAny(rest, "=!")
		if i <= 0 {
			return nil, fmt.Errorf("%q is not a label matcher (name, then = != =~ or !~, then a value)", cut(rest))
		}
		name := strings.TrimSpace(rest[:i])
		op := ""
		for _, o := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(rest[i:], o) {
				op = o
				break
			}
		}
		if op == "" || !labelName.MatchString(name) {
			return nil, fmt.Errorf("%q is not a label matcher (name, then = != =~ or !~, then a value)", cut(rest))
		}
		if strings.HasPrefix(name, "__") || slices.Contains(ownLabels, name) {
			return nil, fmt.Errorf("%s is a label mlcanary selects or counts by; scope by another, e.g. cluster", name)
		}
		rest = strings.TrimSpace(rest[i+len(op):])
		value, after, err := matcherValue(rest)
		if err != nil {
			return nil, fmt.Errorf("the value of %s: %w", name, err)
		}
		if strings.Contains(op, "~") {
			if _, err := regexp.Compile("^(?:" + value + ")$"); err != nil {
				return nil, fmt.Errorf("the regular expression of %s: %w", name, err)
			}
		}
		out = append(out, name+op+quote(value))
		rest = strings.TrimSpace(after)
		if rest != "" {
			if rest[0] != ',' {
				return nil, fmt.Errorf("matchers are separated by commas, not %q", cut(rest))
			}
			rest = strings.TrimSpace(rest[1:])
		}
	}
	return out, nil
}

// matcherValue reads a quoted or bare value at the start of s and returns it and what follows.
func matcherValue(s string) (value, rest string, err error) {
	if s == "" {
		return "", "", errors.New("missing")
	}
	switch q := s[0]; q {
	case '"', '\'', '`':
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' && q != '`' {
				i++
				continue
			}
			if s[i] == q {
				lit := s[:i+1]
				if q == '\'' { // PromQL's single quotes escape as Go's double quotes do
					lit = `"` + strings.ReplaceAll(strings.ReplaceAll(lit[1:i], `\'`, `'`), `"`, `\"`) + `"`
				}
				v, err := strconv.Unquote(lit)
				if err != nil {
					return "", "", fmt.Errorf("%s is not a valid quoted string", cut(s[:i+1]))
				}
				return v, s[i+1:], nil
			}
		}
		return "", "", fmt.Errorf("%s has no closing quote", cut(s))
	}
	end := strings.IndexAny(s, ",")
	if end < 0 {
		end = len(s)
	}
	v := strings.TrimSpace(s[:end])
	if v == "" || strings.ContainsAny(v, "\"'`{} \t") {
		return "", "", fmt.Errorf("%q must be quoted", cut(v))
	}
	return v, s[end:], nil
}

// cut is s shortened for a message.
func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
