package promtest

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Azure Monitor's limits on its Prometheus API (Azure Monitor's "Query Prometheus metrics using
// the API and PromQL", and its metrics limits): a query's time range (query_range's, and a range
// selector's) at most 32 days; /series at most 12 hours.
const (
	maxQueryRange  = 32 * 24 * time.Hour
	maxSeriesRange = 12 * time.Hour
)

// refused is why Azure Monitor refuses a request to path with form at now, or "".
func refused(path string, form url.Values, now time.Time) string {
	switch path {
	case "/api/v1/query":
		return refusedQuery(form.Get("query"))
	case "/api/v1/query_range":
		if why := refusedQuery(form.Get("query")); why != "" {
			return why
		}
		start, okStart := apiTime(form.Get("start"), time.Time{})
		end, okEnd := apiTime(form.Get("end"), time.Time{})
		if !okStart || !okEnd {
			return "query_range needs start and end"
		}
		if end.Sub(start) > maxQueryRange {
			return fmt.Sprintf("the query's time range %s is over Azure Monitor's limit of 32 days", end.Sub(start))
		}
		return ""
	case "/api/v1/series":
		for _, m := range form["match[]"] {
			if strings.Contains(m, "=~") || strings.Contains(m, "!~") {
				return "series does not take regular expressions"
			}
			if why := refusedQuery(m); why != "" {
				return why
			}
		}
		start, okStart := apiTime(form.Get("start"), time.Time{})
		end, _ := apiTime(form.Get("end"), now)
		if !okStart || end.Sub(start) > maxSeriesRange {
			return "series covers at most 12 hours"
		}
		return ""
	case "/api/v1/labels", "/api/v1/label/__name__/values":
		return ""
	}
	if strings.HasPrefix(path, "/api/v1/label/") {
		return "label values are served for __name__ only"
	}
	return path + " is not part of Azure Monitor's Prometheus API"
}

// apiTime parses a Prometheus API time (RFC 3339 or Unix seconds); def when s is empty.
func apiTime(s string, def time.Time) (time.Time, bool) {
	if s == "" {
		return def, !def.IsZero()
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// refusedQuery is why Azure Monitor refuses the PromQL q, or "": each selector must name one metric
// (by name, or by an exact __name__ matcher), __name__ takes no regular expression, and no range
// selector or subquery reaches back over 32 days. A small lexer, not PromQL's parser (which lives in
// Prometheus's module, kept out of this one): it skips string literals, so braces and brackets in a
// label's value do not count.
func refusedQuery(q string) string {
	prevIdent := ""
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(q, i)
			prevIdent = ""
		case isIdentStart(c):
			j := i + 1
			for j < len(q) && isIdentPart(q[j]) {
				j++
			}
			prevIdent = q[i:j]
			i = j
		case c == '{':
			end := closing(q, i, '}')
			matchers := q[i+1 : end]
			if nameRegex.MatchString(matchers) {
				return "a regular expression on __name__ is not supported: name one metric"
			}
			if prevIdent == "" && !nameExact.MatchString(matchers) {
				return "every selector must name one metric: " + q[i:min(end+1, len(q))]
			}
			prevIdent = ""
			i = end + 1
		case c == '[':
			end := closing(q, i, ']')
			rangePart, _, _ := strings.Cut(q[i+1:end], ":")
			if d, ok := promDuration(strings.TrimSpace(rangePart)); ok && d > maxQueryRange {
				return fmt.Sprintf("the range %s is over Azure Monitor's limit of 32 days", rangePart)
			}
			prevIdent = ""
			i = end + 1
		case c == ' ' || c == '\t' || c == '\n':
			i++ // whitespace keeps the identifier before it: `metric {…}` is one selector
		default:
			prevIdent = ""
			i++
		}
	}
	return ""
}

var (
	nameRegex = regexp.MustCompile(`__name__\s*[=!]~`)
	nameExact = regexp.MustCompile(`__name__\s*=\s*["'` + "`" + `]`)
	durPart   = regexp.MustCompile(`^(\d+)(ms|s|m|h|d|w|y)`)
)

// promDuration parses a PromQL duration such as 905s or 1h30m.
func promDuration(s string) (time.Duration, bool) {
	units := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour}
	var total time.Duration
	for s != "" {
		m := durPart.FindStringSubmatch(s)
		if m == nil {
			return 0, false
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, false
		}
		total += time.Duration(n) * units[m[2]]
		s = s[len(m[0]):]
	}
	return total, true
}

// skipString returns the index after the string literal starting at q[i].
func skipString(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		switch {
		case q[j] == '\\' && quote != '`':
			j++
		case q[j] == quote:
			return j + 1
		}
	}
	return len(q)
}

// closing is the index of the bracket end that closes the one opened at q[i], skipping strings;
// len(q) when there is none.
func closing(q string, i int, end byte) int {
	for j := i + 1; j < len(q); {
		switch q[j] {
		case '"', '\'', '`':
			j = skipString(q, j)
		case end:
			return j
		default:
			j++
		}
	}
	return len(q)
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
