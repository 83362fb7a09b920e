package lazyregexp

import (
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestSameAsRegexp: every method answers what regexp.Regexp's answers, and the source text is kept.
func TestSameAsRegexp(t *testing.T) {
	const expr = `(?i)user "([^"]*)" cannot (\S+)`
	lazy, eager := New(expr), regexp.MustCompile(expr)
	for _, s := range []string{"", `User "bob" cannot get pods`, `user "" cannot  x`, "nothing", `USER "a" cannot b; user "c" cannot d`} {
		if got, want := lazy.MatchString(s), eager.MatchString(s); got != want {
			t.Errorf("MatchString(%q) = %v, want %v", s, got, want)
		}
		if got, want := lazy.FindString(s), eager.FindString(s); got != want {
			t.Errorf("FindString(%q) = %q, want %q", s, got, want)
		}
		if got, want := strings.Join(lazy.FindStringSubmatch(s), "|"), strings.Join(eager.FindStringSubmatch(s), "|"); got != want {
			t.Errorf("FindStringSubmatch(%q) = %q, want %q", s, got, want)
		}
		if got, want := lazy.ReplaceAllString(s, "<$1>"), eager.ReplaceAllString(s, "<$1>"); got != want {
			t.Errorf("ReplaceAllString(%q) = %q, want %q", s, got, want)
		}
		if got, want := lazy.ReplaceAllStringFunc(s, strings.ToUpper), eager.ReplaceAllStringFunc(s, strings.ToUpper); got != want {
			t.Errorf("ReplaceAllStringFunc(%q) = %q, want %q", s, got, want)
		}
	}
	if lazy.String() != expr {
		t.Errorf("String() = %q", lazy.String())
	}
}

// TestCompilesInTests: in a test binary New compiles at once, so a bad expression panics where it
// is declared, not in the one test that happens to use it.
func TestCompilesInTests(t *testing.T) {
	if !inTest {
		t.Fatal("a test binary is not recognised as one")
	}
	defer func() {
		if recover() == nil {
			t.Error("New of a bad expression did not panic in a test binary")
		}
	}()
	New(`(`)
}

// TestConcurrentFirstUse: goroutines that use a Regexp for the first time at once all get it
// compiled, once (run under -race by make test).
func TestConcurrentFirstUse(t *testing.T) {
	r := &Regexp{str: `^a+$`} // not compiled yet, as outside a test binary
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !r.MatchString("aaa") || r.MatchString("b") {
				t.Error("wrong answer on first use")
			}
		}()
	}
	wg.Wait()
}
