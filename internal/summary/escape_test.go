package summary

import "testing"

// The cases both former escapers (the stage summary's and the verify report's) handled, and the
// two they left open: a backslash that undid the next escape, and an underscore on a word's edge.
func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain text", "Blue_50 holds: green 50%, blue 50%", "Blue_50 holds: green 50%, blue 50%"},
		{"table cell boundary", "a | b", `a \| b`},
		{"HTML", "<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"},
		{"block quote", "> quoted", "&gt; quoted"},
		{"code span", "run `rm`", "run 'rm'"},
		{"line breaks", "one\r\ntwo\nthree", "one  two three"},
		{"emphasis with stars", "**bold** *it*", `\*\*bold\*\* \*it\*`},
		{"link", "[x](http://evil)", `\[x\](http://evil)`},
		{"image", "![x](http://evil/p.png)", `!\[x\](http://evil/p.png)`},
		{"logging command", "##vso[task.setvariable variable=x]1", `##vso\[task.setvariable variable=x\]1`},
		{"emphasis with underscores", "_it_ __bold__", `\_it\_ \_\_bold\_\_`},
		{"underscore after punctuation", "https://dev.azure.com/org/_build/results", `https://dev.azure.com/org/\_build/results`},
		{"underscore inside a word", "model_svc_blue Green_100", "model_svc_blue Green_100"},
		{"underscore inside a non-ASCII word", "größe_neu", "größe_neu"},
		{"underscore at the ends", "_x x_", `\_x x\_`},
		{"double underscore inside a word", "a__b", `a\_\_b`},
		{"backslash before an escape", `\*`, `\\\*`},
		{"backslash before a pipe", `a\|b`, `a\\\|b`},
		{"backslash alone", `C:\path`, `C:\\path`},
		{"Go-quoted answer", `"a\"b"`, `"a\\"b"`},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCode(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "myregistry.azurecr.io/model:42", "myregistry.azurecr.io/model:42"},
		{"backtick", "a`b", "a'b"},
		{"pipe splits a table row even in a code span", "a|b", "a¦b"},
		{"line breaks", "a\r\nb\nc", "a  b c"},
		{"HTML is literal in a code span", "x.io/<script>:1", "x.io/<script>:1"},
		{"markup is literal in a code span", `*_[x]\`, `*_[x]\`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Code(tc.in); got != tc.want {
				t.Errorf("Code(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
