package app

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// oneInputLine is the only shape bad input takes on stderr: one line naming the input as typed,
// the value and what is allowed.
var oneInputLine = regexp.MustCompile(`^mlcanary: invalid [a-z-]+ "[^"\n]*": allowed: [^\n]+\n$`)

// TestEveryFlagRefusesMalformedValuesInOneLine walks every flag of every command (cobra's own
// --help and the completion command's flags included) and gives each typed flag (number,
// duration, true/false) a value that does not parse: each answers exit 2 and the one line
// `invalid FLAG "VALUE": allowed: …`, never pflag's `invalid argument … strconv.ParseInt…`. A
// decimal flag is also given NaN and 1e400 (which strconv reads as +Inf). String flags cannot
// be malformed when parsed; their values are checked by the commands (input_test.go). This is the
// kind-level guard: a new flag bound with fs.IntVar instead of config.WholeVarP fails here.
func TestEveryFlagRefusesMalformedValuesInOneLine(t *testing.T) {
	root := newRoot(Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, func(string) (string, bool) { return "", false }, &frontEnd{})
	root.InitDefaultCompletionCmd()
	var walk func(*cobra.Command)
	checked := 0
	walk = func(cmd *cobra.Command) {
		cmd.InitDefaultHelpFlag()
		path := strings.Fields(cmd.CommandPath())[1:]
		seen := map[string]bool{}
		visit := func(f *pflag.Flag) {
			if seen[f.Name] {
				return
			}
			seen[f.Name] = true
			var bad []string
			switch f.Value.Type() {
			case "string", "stringArray", "stringSlice":
				return
			case "float64", "float32":
				bad = []string{"abc", "NaN", "Inf", "+Inf", "1e400"}
			default:
				bad = []string{"abc"}
			}
			for _, v := range bad {
				args := append(append([]string{}, path...), "--"+f.Name+"="+v)
				t.Run(strings.Join(args, " "), func(t *testing.T) {
					checked++
					code, _, stderr := runCLIEnv(nil, args...)
					want := `invalid ` + f.Name + ` "` + v + `": allowed: `
					if code != ExitInvalid || !oneInputLine.MatchString(stderr) || !strings.Contains(stderr, want) {
						t.Errorf("exit %d, stderr %q; want exit 2 and one line %q…", code, stderr, want)
					}
				})
			}
		}
		cmd.Flags().VisitAll(visit)
		cmd.InheritedFlags().VisitAll(visit)
		for _, c := range cmd.Commands() {
			walk(c)
		}
	}
	walk(root)
	if checked < 20 {
		t.Errorf("only %d malformed values checked; the walk missed the commands' flags", checked)
	}
}

// TestMalformedValuesSayWhatIsAllowed: the inputs verify, loadtest and serve-model own answered a
// value that does not parse with pflag's raw text (`invalid argument "abc" for "-n, --requests"
// flag: strconv.ParseInt: …`). Each now says what it allows, in the same words as when the value
// parses but is out of range.
func TestMalformedValuesSayWhatIsAllowed(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		inRange []string // the same input out of range: the allowed text must be identical
	}{
		{[]string{"loadtest", "127.0.0.1:1/score", "-n", "abc"}, []string{"loadtest", "127.0.0.1:1/score", "-n", "-3"}},
		{[]string{"loadtest", "127.0.0.1:1/score", "--timeout", "abc"}, []string{"loadtest", "127.0.0.1:1/score", "--timeout", "-1s"}},
		{[]string{"loadtest", "127.0.0.1:1/score", "--rate", "abc"}, []string{"loadtest", "127.0.0.1:1/score", "--rate", "-1"}},
		{[]string{"loadtest", "127.0.0.1:1/score", "--tolerance", "NaN"}, []string{"loadtest", "127.0.0.1:1/score", "--tolerance", "0"}},
		{[]string{"verify", "--gateway", "127.0.0.1:1", "--requests", "abc"}, []string{"verify", "--gateway", "127.0.0.1:1", "--requests", "-3"}},
		{[]string{"verify", "--gateway", "127.0.0.1:1", "--tolerance", "abc"}, []string{"verify", "--gateway", "127.0.0.1:1", "--tolerance", "100"}},
		{[]string{"verify", "--gateway", "127.0.0.1:1", "--confidence", "1e400"}, []string{"verify", "--gateway", "127.0.0.1:1", "--confidence", "1"}},
		{[]string{"analyze", "--prometheus-url", "http://127.0.0.1:1", "--interval", "abc"}, []string{"analyze", "--prometheus-url", "http://127.0.0.1:1", "--interval", "0s"}},
		{[]string{"analyze", "--prometheus-url", "http://127.0.0.1:1", "--max-error-increase", "abc"}, []string{"analyze", "--prometheus-url", "http://127.0.0.1:1", "--max-error-increase", "100"}},
		{[]string{"analyze", "--prometheus-url", "http://127.0.0.1:1", "--confidence", "1e400"}, []string{"analyze", "--prometheus-url", "http://127.0.0.1:1", "--confidence", "1"}},
		{[]string{"serve-model", "--latency", "abc"}, []string{"serve-model", "--latency", "-1s"}},
		{[]string{"serve-model", "--fail-rate", "abc"}, []string{"serve-model", "--fail-rate", "2"}},
		{[]string{"serve-model", "--fail-status", "abc"}, []string{"serve-model", "--fail-status", "200"}},
		{[]string{"serve-model", "--weights", "1", "--nan-rate", "abc"}, []string{"serve-model", "--weights", "1", "--nan-rate", "2"}},
		{[]string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "-c", "abc"}, []string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "-c", "0"}},
		{[]string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--max-disagreement", "abc"}, []string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--max-disagreement", "-1"}},
		{[]string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--rel-tolerance", "abc"}, []string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--rel-tolerance", "-1"}},
		{[]string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--max-disagreement", "abc"}, []string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--max-disagreement", "1e-10"}},
		{[]string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--request-timeout", "abc"}, []string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--request-timeout", "0s"}},
		{[]string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--rate", "abc"}, []string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--rate", "-1"}},
		{[]string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--confidence", "abc"}, []string{"compare", "--gateway", "127.0.0.1:1", "--requests", "x", "--confidence", "1"}},
		{[]string{"stage", "Blue_x"}, []string{"stage", "Blue_500"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runCLIEnv(nil, tc.args...)
			_, _, other := runCLIEnv(nil, tc.inRange...)
			allowed := func(s string) string { _, a, _ := strings.Cut(s, "allowed: "); return a }
			if code != ExitInvalid || !oneInputLine.MatchString(stderr) {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line", code, stderr)
			}
			if allowed(stderr) == "" || allowed(stderr) != allowed(other) {
				t.Errorf("the input is described two ways:\n%s%s", stderr, other)
			}
		})
	}
}

// TestURLCredentialsNeverPrinted: loadtest printed the URL it was given as is, password included,
// in its failure line ("none of the 2 requests to http://alice:hunter2@… was answered") and in -o
// json's "url". Every output stream of loadtest and verify, in every format, is searched for the
// password.
func TestURLCredentialsNeverPrinted(t *testing.T) {
	for _, args := range [][]string{
		{"loadtest", "http://alice:hunter2@127.0.0.1:1/score", "-n", "2"},
		{"loadtest", "http://alice:hunter2@127.0.0.1:1/score", "-n", "2", "-o", "json"},
		{"loadtest", "http://alice:hunter2@127.0.0.1:1/score", "-n", "2", "--print"},
		{"loadtest", "http://alice:hunter2@127.0.0.1:1/score", "-n", "2", "-o", "json", "--print"},
		{"loadtest", "http://alice:hunter2@127.0.0.1:1/score", "-n", "2", "--expect", "A=1"},
		{"loadtest", "http://alice:hunter2@127.0.0.1:1/score", "-n", "-1"},
		{"loadtest", "http://alice:hunter2@127.0.0.1:1/score", "-n", "2", "--expect", "A=1", "-o", "json"},
		{"loadtest", "ftp://alice:hunter2@127.0.0.1:1/score"},
		{"loadtest", "http://al ice:hunter2@127.0.0.1:1/score"},
		{"verify", "--gateway", "http://alice:hunter2@127.0.0.1:1"},
		{"verify", "--gateway", "http://alice:hunter2@127.0.0.1:1", "-o", "json"},
		{"verify", "--gateway", "http://al ice:hunter2@127.0.0.1:1"},
		{"analyze", "--prometheus-url", "http://alice:hunter2@127.0.0.1:1"},
		{"analyze", "--prometheus-url", "http://al ice:hunter2@127.0.0.1:1", "-o", "json"},
		{"analyze", "--prometheus-url", "http://127.0.0.1:1/?token=hunter2"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stdout, stderr := runCLIEnv(nil, args...)
			if strings.Contains(stdout+stderr, "hunter2") {
				t.Errorf("the password is printed:\nstdout: %s\nstderr: %s", stdout, stderr)
			}
		})
	}
}
