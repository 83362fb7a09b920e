package app

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestRootForOneCommand: a run naming a subcommand gets a tree holding only that command
// (newRootFor), and the command is the one the whole tree holds, with the same flags; any other
// first argument gets the whole tree.
func TestRootForOneCommand(t *testing.T) {
	s := Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}
	env := func(string) (string, bool) { return "", false }
	full := newRoot(s, env, &frontEnd{})
	flags := func(c *cobra.Command) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s|%s|%s|%v\n", c.Use, c.Short, c.Long, c.Hidden)
		c.Flags().VisitAll(func(f *pflag.Flag) {
			fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%v\n", f.Name, f.Shorthand, f.Value.Type(), f.DefValue, f.Usage, f.Hidden)
		})
		return b.String()
	}
	subs := subcommands(s, env, &frontEnd{})
	if len(subs) != len(full.Commands()) {
		t.Fatalf("subcommands has %d commands, the tree %d", len(subs), len(full.Commands()))
	}
	for _, sub := range subs {
		root := newRootFor(s, env, &frontEnd{}, []string{sub.name, "--help"})
		if len(root.Commands()) != 1 || root.Commands()[0].Name() != sub.name {
			t.Errorf("%s: tree holds %d commands, first %q", sub.name, len(root.Commands()), root.Commands()[0].Name())
			continue
		}
		want, _, err := full.Find([]string{sub.name})
		if err != nil || want.Name() != sub.name {
			t.Fatalf("%s is not a command of the whole tree: %v", sub.name, err)
		}
		if got := flags(root.Commands()[0]); got != flags(want) {
			t.Errorf("%s alone differs from the whole tree's:\n%s\nwant\n%s", sub.name, got, flags(want))
		}
	}
	for _, args := range [][]string{nil, {"help", "stage"}, {"--help"}, {"stagee"}, {"completion", "bash"}, {"__complete", "st"}} {
		if n := len(newRootFor(s, env, &frontEnd{}, args).Commands()); n != len(subs) {
			t.Errorf("%q: tree holds %d commands, want all %d", args, n, len(subs))
		}
	}
}
