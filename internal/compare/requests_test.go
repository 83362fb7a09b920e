package compare

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/config"
)

func readAll(t *testing.T, text string) ([]Request, error) {
	t.Helper()
	rd := NewReader(strings.NewReader(text), "reqs.jsonl")
	var out []Request
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
}

// TestReaderLines: each form a line may take, with its line number; blank lines keep their number.
func TestReaderLines(t *testing.T) {
	t.Parallel()
	got, err := readAll(t, `[1, 2]`+"\n\n"+
		`{"age": 3}`+"\r\n"+
		`  "text"  `+"\n"+
		`{"body": {"age": 4}, "headers": {"Authorization": "Bearer x", "x-trace": "7"}, "path": "/v2/score"}`+"\n"+
		`{"body": [5]}`+"\n   \n"+
		`null`) // no final newline
	if err != nil {
		t.Fatal(err)
	}
	want := []Request{
		{Line: 1, Body: []byte(`[1, 2]`)},
		{Line: 3, Body: []byte(`{"age": 3}`)},
		{Line: 4, Body: []byte(`"text"`)},
		{Line: 5, Body: []byte(`{"age": 4}`), Header: http.Header{"Authorization": {"Bearer x"}, "X-Trace": {"7"}}, Path: "/v2/score"},
		{Line: 6, Body: []byte(`[5]`)},
		{Line: 8, Body: []byte(`null`)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got)\n%s", diff)
	}
}

// TestReaderRejects: every kind of bad line is one input error naming the file and the line, and
// never repeating the line's content (it may hold a token).
func TestReaderRejects(t *testing.T) {
	t.Parallel()
	const head = `invalid requests "reqs.jsonl": allowed: JSON Lines: one request per line, a JSON body or {"body": …, "headers": {"name": "value"}, "path": "/score"} (line `
	for _, tc := range []struct {
		name, text, want string
	}{
		{"not JSON", "[1]\n{\"secret\": tok-123\n", `2: not JSON: invalid character 'o' in literal true (expecting 'r'))`},
		{"two values", "[1] [2]\n", `1: not JSON: invalid character '[' after top-level value)`},
		{"unknown wrapper member", `{"body": 1, "header": {"a": "b"}}`, `1: a line with a "body" member takes only "body", "headers" (names to strings) and "path": it has the member "header")`},
		{"unknown wrapper member holding a token", `{"body": 1, "Authorization: Bearer eyJtok-123": ""}`, `1: a line with a "body" member takes only "body", "headers" (names to strings) and "path": it has the member of 32 bytes (not shown))`},
		{"header value not a string", `{"body": 1, "headers": {"a": 1}}`, `1: a line with a "body" member takes only "body", "headers" (names to strings) and "path": json: cannot unmarshal number into Go struct field wrapper.headers of type string)`},
		{"bad header name", `{"body": 1, "headers": {"a b": "c"}}`, `1: the header name starting "a" holds a space, which a name cannot (the rest is not shown: write {"headers": {"a": "…"}}, the value after the name))`},
		{"header written whole as its name", `{"body": 1, "headers": {"Authorization: Bearer eyJtok-123": ""}}`, `1: the header name starting "Authorization" holds ":", which a name cannot (the rest is not shown: write {"headers": {"Authorization": "…"}}, the value after the name))`},
		{"bad header name that is all token", `{"body": 1, "headers": {"eyJhbGciOiJIUzI1NiJ9tok-123abcdefghijklmnop/x": ""}}`, `1: a header name of 45 bytes holds "/", which a name cannot (the name is not shown: write {"headers": {"Authorization": "Bearer …"}}, the name before the value))`},
		{"header value with a newline", `{"body": 1, "headers": {"a": "b\nc: d"}}`, `1: the value of header "a" holds a line break or NUL (its value is not shown))`},
		{"relative path", `{"body": 1, "path": "score"}`, `1: "path" must start with / and hold no spaces, query or fragment)`},
		{"path with a query", `{"body": 1, "path": "/score?x=1"}`, `1: "path" must start with / and hold no spaces, query or fragment)`},
		{"too long", "[1]\n\n[" + strings.Repeat("1,", MaxLineBytes/2) + "1]\n", `3: longer than 1048576 bytes)`},
	} {
		_, err := readAll(t, tc.text)
		var ie *config.InputError
		if !errors.As(err, &ie) || err.Error() != head+tc.want {
			t.Errorf("%s: err = %v\nwant %s", tc.name, err, head+tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "tok-123") {
			t.Errorf("%s: the error repeats the line's content: %v", tc.name, err)
		}
	}
}

// TestPrepare: a file and standard input are validated before anything is sent, counted, and read
// again from the start; standard input's spool is removed by Close; a missing or empty file is bad input.
func TestPrepare(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "reqs.jsonl")
	if err := os.WriteFile(file, []byte("[1]\n[2]\n\n[3]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rq, err := Prepare(file, nil)
	if err != nil || rq.Count != 3 {
		t.Fatalf("Prepare(file) = %+v, %v; want 3 requests", rq, err)
	}
	again := func(rq *Requests) string {
		f, err := rq.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		b, _ := io.ReadAll(f)
		return string(b)
	}
	if got := again(rq); got != "[1]\n[2]\n\n[3]\n" {
		t.Errorf("read again: %q", got)
	}
	if err := rq.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("Close removed the user's file: %v", err)
	}
	stdin, err := Prepare("-", strings.NewReader("{\"a\": 1}\n{\"b\": 2}"))
	if err != nil || stdin.Count != 2 || again(stdin) != "{\"a\": 1}\n{\"b\": 2}" {
		t.Fatalf("Prepare(-) = %+v, %v", stdin, err)
	}
	spool := stdin.path
	if err := stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(spool); !os.IsNotExist(err) {
		t.Errorf("standard input's spool %s is still there after Close", spool)
	}
	for _, tc := range []struct{ name, want string }{
		{filepath.Join(dir, "missing.jsonl"), `allowed: a readable file of JSON Lines`},
		{file + ".empty", `(the file has no requests)`},
	} {
		if strings.HasSuffix(tc.name, ".empty") {
			if err := os.WriteFile(tc.name, []byte("\n \n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Prepare(tc.name, nil)
		var ie *config.InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "invalid requests ") {
			t.Errorf("Prepare(%s): %v, want an input error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Prepare("-", strings.NewReader("[1]\nnope\n")); err == nil || !strings.Contains(err.Error(), `invalid requests "-"`) || !strings.Contains(err.Error(), "(line 2: not JSON") {
		t.Errorf("a bad line on standard input: %v", err)
	}
}

// TestPrepareBadLinesOfAFile: through Prepare (a file, as the task's compareRequests reads it), CRLF,
// blank and white-space-only lines are fine and not counted; a non-JSON line, a wrapper with an
// unknown member, a header value with CR/LF and a line over MaxLineBytes are refused in one line
// naming the line number. Kept from the #11 break-it review.
func TestPrepareBadLinesOfAFile(t *testing.T) {
	t.Parallel()
	write := func(text string) string {
		name := filepath.Join(t.TempDir(), "reqs.jsonl")
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	rq, err := Prepare(write("[1]\r\n\r\n   \n{\"body\": {\"x\": 1}, \"headers\": {\"Authorization\": \"Bearer s3cret\"}}\r\n"), nil)
	if err != nil || rq.Count != 2 {
		t.Fatalf("CRLF and blank lines: %v, %+v", err, rq)
	}
	_ = rq.Close()
	for _, c := range []struct{ text, line string }{
		{"[1]\n\n{oops\n", "(line 3: "},
		{"[1]\n{\"body\": 1, \"header\": {}}\n", "(line 2: "},
		{"{\"body\": 1, \"headers\": {\"a\": \"b\\r\\nx: y\"}}\n", "(line 1: "},
		{"[1]\n[" + strings.Repeat("1,", MaxLineBytes/2) + "1]\n", "(line 2: "},
	} {
		_, err := Prepare(write(c.text), nil)
		if err == nil || !strings.Contains(err.Error(), c.line) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%.40q: %v, want one line naming %s", c.text, err, c.line)
		}
	}
}
