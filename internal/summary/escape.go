package summary

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// markdownEscapes are the characters Escape rewrites, each to what shows it literally. A backslash
// is doubled first, so text ending in one cannot undo the next escape.
var markdownEscapes = strings.NewReplacer(
	`\`, `\\`, // CommonMark 2.4: a backslash before punctuation escapes it
	"|", `\|`, // a GFM table cell boundary
	"<", "&lt;", ">", "&gt;", // HTML (and a block quote at a line's start)
	"`", "'", // a code span
	"\r", " ", "\n", " ", // a new block: the text stays on its line
	"*", `\*`, // emphasis, and a list item at a line's start
	"[", `\[`, "]", `\]`, // links and images
)

// Escape makes text that did not come from mlcanary (cluster values, error messages, answers) inert
// inside Markdown, in a table cell as in a paragraph: it cannot open a table cell, HTML, a link,
// a code span, emphasis or a new line. An underscore is escaped unless a letter or digit stands on
// both sides of it, where CommonMark (0.31.2, 6.2: an intraword `_` neither opens nor closes
// emphasis) and GFM read it literally, so names like Blue_50 stay as typed.
//
// Every Markdown renderer in mlcanary (the stage summary, the verify report) escapes through it.
func Escape(s string) string {
	s = markdownEscapes.Replace(s)
	if !strings.Contains(s, "_") {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if r == '_' && !intraword(s, i) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// intraword reports whether the byte at i has a letter or digit on both sides.
func intraword(s string, i int) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i+1:])
	return alnum(before) && alnum(after)
}

func alnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// codeEscapes keep text inside one inline code span, in a table cell too: GFM splits a row at a
// pipe even inside a code span, so the pipe is shown as ¦.
var codeEscapes = strings.NewReplacer("`", "'", "|", "¦", "\r", " ", "\n", " ")

// Code makes s safe inside an inline code span (`…`): no backtick, pipe or line break. HTML inside
// a code span is literal text (CommonMark 6.1), so nothing else needs escaping.
func Code(s string) string { return codeEscapes.Replace(s) }
