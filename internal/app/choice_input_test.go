package app

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/loadtest"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// TestChoiceInputsReadAlike (breakit9 G14): every choice input of mlcanary — every enum-like flag
// of every command, and the keywords of free-text inputs — reads its value by the one rule
// config.Choice (case and surrounding blanks ignored), as the front ends set them (FlagSet.Set):
// --capacity-check took ENFORCE while --ingress refused External and --readiness-path refused None.
// A keyword's free-text neighbours (a path, an address) are kept as typed.
func TestChoiceInputsReadAlike(t *testing.T) {
	variants := func(word string) []string {
		return []string{word, upper(word), capital(word), " " + word + " ", "\t" + upper(word) + "\n"}
	}
	check := func(t *testing.T, bind func(fs *pflag.FlagSet), flag, word string, got func() string) {
		t.Helper()
		for _, v := range variants(word) {
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			bind(fs)
			if err := fs.Set(flag, v); err != nil {
				t.Errorf("--%s=%q: %v", flag, v, err)
			} else if got() != word {
				t.Errorf("--%s=%q read as %q, want %q", flag, v, got(), word)
			}
		}
	}
	var in config.Inputs
	for flag, words := range map[string][]string{
		config.FlagIngress:       {"auto", "external", "internal"},
		config.FlagCapacityCheck: {"auto", "off", "warn", "enforce"},
		config.FlagReadinessPath: {"none"},
	} {
		for _, w := range words {
			get := map[string]func() string{config.FlagIngress: func() string { return in.Ingress },
				config.FlagCapacityCheck: func() string { return in.CapacityCheck }, config.FlagReadinessPath: func() string { return in.ReadinessPath }}[flag]
			check(t, func(fs *pflag.FlagSet) { in = config.Inputs{}; in.AddFlags(fs) }, flag, w, get)
			// and the whole input is accepted by Config as the word
			for _, v := range variants(w) {
				in = config.Inputs{}
				fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
				in.AddFlags(fs)
				_ = fs.Set(config.FlagImage, "r.example/m:1")
				_ = fs.Set(flag, v)
				if _, err := in.Config("Blue_0"); err != nil {
					t.Errorf("--%s=%q: %v", flag, v, err)
				}
			}
		}
	}
	for _, v := range []string{"true", "TRUE", " True ", "false", "FALSE"} {
		in = config.Inputs{}
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		in.AddFlags(fs)
		if err := fs.Set(config.FlagDryRun, v); err != nil {
			t.Errorf("--dry-run=%q: %v", v, err)
		}
	}
	// A readiness path is a path, not a word: kept as typed.
	in = config.Inputs{}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	in.AddFlags(fs)
	if _ = fs.Set(config.FlagReadinessPath, "/Health/Ready"); in.ReadinessPath != "/Health/Ready" {
		t.Errorf("--readiness-path /Health/Ready read as %q", in.ReadinessPath)
	}

	var f clusterFlags
	for _, w := range []string{"text", "json", "yaml", "markdown"} {
		check(t, func(fs *pflag.FlagSet) {
			f = clusterFlags{}
			cmd := &cobra.Command{}
			f.add(cmd)
			fs.AddFlagSet(cmd.Flags())
		}, "output", w, func() string { return f.output })
	}
	var lt loadtest.Inputs
	for flag, words := range map[string][]string{"output": {"text", "json"}, "version": {"blue", "green"}, "method": {"get", "post"}} {
		for _, w := range words {
			get := map[string]func() string{"output": func() string { return lt.Output }, "version": func() string { return lt.Version }, "method": func() string { return lt.Method }}[flag]
			check(t, func(fs *pflag.FlagSet) { lt = loadtest.Inputs{}; lt.AddFlags(fs) }, flag, w, get)
		}
	}
	var vi verify.Inputs
	for _, w := range []string{"markdown", "json"} {
		check(t, func(fs *pflag.FlagSet) { vi = verify.Inputs{}; vi.AddFlags(fs) }, "output", w, func() string { return vi.Output })
	}
	check(t, func(fs *pflag.FlagSet) { vi = verify.Inputs{}; vi.AddFlags(fs) }, "gateway", verify.AutoGateway, func() string { return vi.Gateway })
	fs = pflag.NewFlagSet("t", pflag.ContinueOnError)
	vi = verify.Inputs{}
	vi.AddFlags(fs)
	if _ = fs.Set("gateway", "http://GW.example:80"); vi.Gateway != "http://GW.example:80" {
		t.Errorf("--gateway http://GW.example:80 read as %q", vi.Gateway)
	}
	var an analyze.Inputs
	for _, w := range []string{"text", "json"} {
		check(t, func(fs *pflag.FlagSet) { an = analyze.Inputs{}; an.AddFlags(fs) }, "output", w, func() string { return an.Output })
	}
	for _, w := range []string{analyze.SourcePrometheus, analyze.SourceLoadtest} {
		check(t, func(fs *pflag.FlagSet) { an = analyze.Inputs{}; an.AddFlags(fs) }, "source", w, func() string { return an.Source })
	}
	for _, s := range []string{"blue_0", "BLUE_50", " Rollback ", "green_100"} {
		if _, err := config.ParseStage(s); err != nil {
			t.Errorf("stage %q: %v", s, err)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func capital(s string) string { return upper(s[:1]) + s[1:] }
