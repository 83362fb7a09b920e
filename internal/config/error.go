package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mlcanary/mlcanary/internal/lazyregexp"
)

// InputError is bad input: the run stops before contacting a cluster and exits with code 2.
type InputError struct {
	// Input names the input as the front end calls it: the CLI flag without dashes (e.g. "stage",
	// "image-tag"); the Azure DevOps front end renames it to the task input (imageTag).
	Input string
	// Value is what was given; it is never a secret (secret inputs are not validated this way).
	Value string
	// Allowed says what would be accepted. It is mlcanary's own text, not the user's value; other
	// inputs it mentions are written {image-repo}, so Rename can give them the front end's names.
	Allowed string
}

// inputRef is how Allowed mentions another input: {flag-name}.
var inputRef = lazyregexp.New(`\{([A-Za-z][A-Za-z0-9-]*)\}`)

// Rename gives the input, and every input Allowed mentions, the names a front end uses (the Azure
// DevOps task's camelCase names), so the whole message speaks the user's names.
func (e *InputError) Rename(name func(flag string) string) {
	e.Input = name(e.Input)
	e.Allowed = inputRef.ReplaceAllStringFunc(e.Allowed, func(m string) string { return "{" + name(m[1:len(m)-1]) + "}" })
}

var _ error = (*InputError)(nil)

// maxShown is how many characters of a value an error repeats; a longer value is cut, with its
// length, so one bad input cannot flood a log.
const maxShown = 120

// Error reads as one line naming the input, the value and what is allowed, e.g.
// `invalid image-tag "sha256:12": allowed: …`. The value is Go-quoted, so a newline or any other
// control character in it is shown escaped and can never start a logging command.
func (e *InputError) Error() string {
	allowed := inputRef.ReplaceAllString(e.Allowed, "$1")
	return fmt.Sprintf("invalid %s %s: allowed: %s", Printable(e.Input), QuoteValue(e.Value), Printable(allowed))
}

// QuoteValue Go-quotes v (control characters, invalid UTF-8 and other unprintable runes escaped),
// cut to its first maxShown characters with its full length appended when it is longer.
func QuoteValue(v string) string {
	if n := utf8.RuneCountInString(v); n > maxShown {
		cut := 0 // byte offset of the maxShown-th character; invalid bytes stay bytes, so Quote escapes them
		for range maxShown {
			_, w := utf8.DecodeRuneInString(v[cut:])
			cut += w
		}
		return strconv.Quote(v[:cut]) + fmt.Sprintf("… (%d characters)", n)
	}
	return strconv.Quote(v)
}

// Printable returns s with every rune that is not printable (control characters such as CR, LF
// and ESC, invalid UTF-8, Unicode format characters) replaced by its Go escape, then made inert
// as a logging command (Neutralise), and everything else, quotes included, unchanged. Messages
// pass text they did not write through it, so an error stays one line and cannot forge an Azure
// DevOps or GitHub logging command, whichever front end prints it (the CLI may itself run in an
// Azure Pipelines or GitHub Actions step).
func Printable(s string) string {
	return Neutralise(escapeUnprintable(s))
}

// commandLike matches what the Azure Pipelines agent runs as a command anywhere in a line
// ("##vso[") and its formatting commands ("##[error]", "##[group]", ...), in any case; the GitHub
// runner reads "##[" the same way (its old command syntax).
var commandLike = lazyregexp.New(`(?i)##(vso)?\[`)

// Neutralise makes one line inert as a logging command, the one rule every front end applies:
// "##vso[" and "##[" lose their bracket (shown as %5B), and a line that starts with "::" after
// leading whitespace (a GitHub workflow command) is prefixed "> ".
func Neutralise(line string) string {
	line = commandLike.ReplaceAllStringFunc(line, func(m string) string { return strings.TrimSuffix(m, "[") + "%5B" })
	if strings.HasPrefix(strings.TrimSpace(line), "::") {
		line = "> " + line
	}
	return line
}

func escapeUnprintable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r == utf8.RuneError || !unicode.IsPrint(r) }) < 0 {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, width := utf8.DecodeRuneInString(s[i:])
		w = width
		switch {
		case r == utf8.RuneError && width == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r) // e.g. '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}
