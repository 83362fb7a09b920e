package config

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Choice is the one rule every choice input of mlcanary reads its value by — an input whose value
// is one of a few words (--ingress, --capacity-check, -o, loadtest's --version and --method, a
// true/false input) or a keyword of a free-text input (--readiness-path none, verify's --gateway
// auto): case and the blanks around it are ignored, so `External`, ` warn` and `None` read as
// external, warn and none in every front end (a GitHub Action's inputs are free text). Stage
// names follow the same rule (stage.Parse).
func Choice(v string) string { return strings.ToLower(strings.TrimSpace(v)) }

// choiceValue is a string flag whose value, when Choice reads it as one of words, is stored as that
// word; any other value is kept as typed, for the command's validation to refuse (or, for a
// free-text input with keywords, to use: a path, an address) with the value as the user gave it.
type choiceValue struct {
	p     *string
	words []string
}

func (v *choiceValue) String() string { return *v.p }
func (v *choiceValue) Type() string   { return "string" }
func (v *choiceValue) Set(s string) error {
	if c := Choice(s); slices.Contains(v.words, c) {
		s = c
	}
	*v.p = s
	return nil
}

// ChoiceVarP binds a choice input whose words are words (lower case), or a free-text input whose
// keywords they are (shorthand may be ""): a value Choice reads as one of them is stored as it.
func ChoiceVarP(fs *pflag.FlagSet, p *string, name, shorthand, value, usage string, words ...string) {
	*p = value
	fs.VarP(&choiceValue{p: p, words: words}, name, shorthand, usage)
}
