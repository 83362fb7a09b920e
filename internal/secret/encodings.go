package secret

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// encodedForms caches encoded's compiled patterns, by secret, up to maxCached of them: a run knows a
// few secrets, but compare's requests file may send a different token on every line.
var (
	cacheMu      sync.Mutex
	encodedForms = map[string]*regexp.Regexp{}
)

const maxCached = 64

// encodingMarks are the characters without which text holds no encoded form of a secret: a
// backslash escape, a percent-encoded byte, an HTML character reference, a '+' for a space.
const encodingMarks = `\%&+`

// encoded matches secret as a server may echo it encoded, each character in any of these forms
// (mixed freely, hex digits in either case):
//   - itself, or after a backslash (JSON's "\/", a shell's or a log's escaping);
//   - a JSON or JavaScript \uXXXX escape (json_encode's "\u002f", Go's "\u003c", Java's escapes);
//   - its UTF-8 bytes percent-encoded (RFC 3986, and '+' for a space as forms encode it);
//   - an HTML character reference, decimal or hexadecimal (&#47; &#x2F;), or &amp; &lt; &gt; &quot;
//     &apos; for the five characters HTML escapes by name.
func encoded(secret string) *regexp.Regexp {
	cacheMu.Lock()
	re, ok := encodedForms[secret]
	cacheMu.Unlock()
	if ok {
		return re
	}
	var b strings.Builder
	for _, r := range secret {
		lit := regexp.QuoteMeta(string(r))
		forms := []string{lit}
		if r < utf8.RuneSelf && !isAlnum(r) {
			forms = append(forms, `\\`+lit)
		}
		if r <= 0xFFFF {
			forms = append(forms, fmt.Sprintf(`\\u(?i:%04x)`, r))
		}
		var pct strings.Builder
		for _, c := range []byte(string(r)) {
			fmt.Fprintf(&pct, `%%(?i:%02x)`, c)
		}
		forms = append(forms, pct.String(), fmt.Sprintf(`&#0*%d;`, r), fmt.Sprintf(`&#(?i:x0*%x);`, r))
		if name, ok := htmlNames[r]; ok {
			forms = append(forms, name)
		}
		if r == ' ' {
			forms = append(forms, `\+`)
		}
		b.WriteString("(?:" + strings.Join(forms, "|") + ")")
	}
	re = regexp.MustCompile(b.String())
	cacheMu.Lock()
	if len(encodedForms) < maxCached {
		encodedForms[secret] = re
	}
	cacheMu.Unlock()
	return re
}

// htmlNames are the named references of the characters HTML escapes.
var htmlNames = map[rune]string{'&': `&amp;`, '<': `&lt;`, '>': `&gt;`, '"': `&quot;`, '\'': `&(?:apos|#39);`}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
