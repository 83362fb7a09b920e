package compare

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Request is one line of the requests file, ready to send to both versions.
type Request struct {
	// Line is the 1-based line number in the file, how reports name the request.
	Line int
	// Body is sent as is (a JSON value).
	Body []byte
	// Header is the line's own headers (nil: none); the routing header is set over them.
	Header http.Header
	// Path is the line's path ("": the command's --path).
	Path string
}

// MaxLineBytes bounds one line of the requests file; a longer line is bad input.
const MaxLineBytes = 1 << 20

// allowedRequests says what the requests file holds, for its errors.
const allowedRequests = `JSON Lines: one request per line, a JSON body or {"body": …, "headers": {"name": "value"}, "path": "/score"}`

// Reader reads the requests file line by line (JSON Lines, https://jsonlines.org): a line is either
// the JSON body itself or, when it is an object with a "body" member, a wrapper
// {"body": <JSON>, "headers": {<name>: <string>}, "path": "/…"} whose members other than body are
// optional and which has no other members. Blank lines are skipped (they keep their number). It
// holds one line at a time, so memory does not grow with the file.
type Reader struct {
	r    *bufio.Reader
	name string
	line int
}

// NewReader reads requests from r; name is the file as the user typed it, for errors.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), name: name}
}

// Next returns the next request, io.EOF after the last, a *config.InputError naming the input
// "requests", the file and the line for a line that is not a request, or the read error.
func (rd *Reader) Next() (Request, error) {
	for {
		raw, err := rd.readLine()
		if err != nil {
			return Request{}, err
		}
		rd.line++
		if rd.line == 1 { // a UTF-8 byte order mark, as PowerShell 5.1 and Notepad write on Windows agents
			raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		req, err := parseLine(raw)
		if err != nil {
			return Request{}, rd.bad(err.Error())
		}
		req.Line = rd.line
		return req, nil
	}
}

// bad is the error for the current line.
func (rd *Reader) bad(why string) error {
	return &config.InputError{Input: FlagRequests, Value: rd.name,
		Allowed: fmt.Sprintf("%s (line %d: %s)", allowedRequests, rd.line, why)}
}

// readLine returns the next line without its newline, io.EOF at the end. A line over
// MaxLineBytes is bad input.
func (rd *Reader) readLine() ([]byte, error) {
	var long []byte
	for {
		chunk, err := rd.r.ReadSlice('\n')
		if len(long)+len(chunk) > MaxLineBytes+1 {
			rd.line++
			return nil, rd.bad(fmt.Sprintf("longer than %d bytes", MaxLineBytes))
		}
		switch {
		case err == nil && long == nil:
			return chunk, nil // valid until the next read; parseLine copies what it keeps
		case err == nil:
			return append(long, chunk...), nil
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, chunk...)
		case errors.Is(err, io.EOF) && len(long)+len(chunk) > 0:
			return append(long, chunk...), nil
		case errors.Is(err, io.EOF):
			return nil, io.EOF
		default:
			return nil, fmt.Errorf("reading %s: %w", rd.name, err)
		}
	}
}

// wrapper is a line's {"body", "headers", "path"} form.
type wrapper struct {
	Body    json.RawMessage   `json:"body"`
	Headers map[string]string `json:"headers"`
	Path    *string           `json:"path"`
}

// parseLine reads one non-blank line into a request (without its line number).
func parseLine(raw []byte) (Request, error) {
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v) // only for its message, which says what is wrong where
		return Request{}, fmt.Errorf("not JSON: %w", err)
	}
	if raw[0] != '{' || !hasBody(raw) {
		return Request{Body: bytes.Clone(raw)}, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	var w wrapper
	if err := d.Decode(&w); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok { // the member's name, which may be anything
			if n, uerr := strconv.Unquote(name); uerr == nil && (!validHeaderName(n) || len(n) > maxNameShown) {
				name = fmt.Sprintf("of %d bytes (not shown)", len(n))
			}
			err = fmt.Errorf("it has the member %s", name)
		}
		return Request{}, fmt.Errorf(`a line with a "body" member takes only "body", "headers" (names to strings) and "path": %w`, err)
	}
	req := Request{Body: bytes.Clone(w.Body)}
	if w.Path != nil {
		if !strings.HasPrefix(*w.Path, "/") || strings.ContainsAny(*w.Path, " \t\r\n?#") {
			return Request{}, errors.New(`"path" must start with / and hold no spaces, query or fragment`)
		}
		req.Path = *w.Path
	}
	if len(w.Headers) > 0 {
		req.Header = http.Header{}
		names := make([]string, 0, len(w.Headers))
		for k := range w.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !validHeaderName(k) {
				return Request{}, errors.New(badHeaderName(k))
			}
			if strings.ContainsAny(w.Headers[k], "\r\n\x00") {
				return Request{}, fmt.Errorf("the value of header %q holds a line break or NUL (its value is not shown)", k)
			}
			req.Header.Set(k, w.Headers[k])
		}
	}
	return req, nil
}

// hasBody reports whether the JSON object raw has a top-level "body" member.
func hasBody(raw []byte) bool {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return false
	}
	_, ok := members["body"]
	return ok
}

// maxNameShown is the longest start of a bad header name an error shows.
const maxNameShown = 40

// badHeaderName says why k is not a header name, showing only its start up to the first character a
// name cannot hold (and at most maxNameShown bytes): a header written whole as its name, as
// `curl -H "Authorization: Bearer eyJ…"` has it, is named "Authorization" and its credential never
// reaches the terminal or a pipeline's log (the front ends read the file before the stage, where no
// mask covers it).
func badHeaderName(k string) string {
	if k == "" {
		return `a header name is empty`
	}
	i := 0
	for i < len(k) && validHeaderName(k[i:i+1]) {
		i++
	}
	what := fmt.Sprintf("%q", k[i:i+1])
	if k[i] == ' ' {
		what = "a space"
	}
	if i == 0 || i > maxNameShown {
		return fmt.Sprintf("a header name of %d bytes holds %s, which a name cannot (the name is not shown: "+
			`write {"headers": {"Authorization": "Bearer …"}}, the name before the value)`, len(k), what)
	}
	return fmt.Sprintf("the header name starting %q holds %s, which a name cannot (the rest is not shown: "+
		`write {"headers": {%q: "…"}}, the value after the name)`, k[:i], what, k[:i])
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 §5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// Requests is a validated requests file that can be read again from its start: the file itself, or
// standard input spooled to a temporary file while it was validated. Close removes the spool.
type Requests struct {
	// Name is the file as the user typed it ("-": standard input).
	Name string
	// Count is the number of requests in it.
	Count int
	path  string
	spool bool
}

// Prepare reads the requests file name ("-": stdin) once from start to end, validating every line,
// so that bad input is found before anything is sent (a *config.InputError naming the line), and
// returns it ready to be read again by Open. Its memory is one line, whatever the file's size.
func Prepare(name string, stdin io.Reader) (*Requests, error) {
	rq := &Requests{Name: name, path: name}
	var src io.Reader
	if name == "-" {
		f, err := os.CreateTemp("", "mlcanary-compare-*.jsonl")
		if err != nil {
			return nil, fmt.Errorf("spooling standard input: %w", err)
		}
		defer func() { _ = f.Close() }()
		rq.path, rq.spool = f.Name(), true
		src = io.TeeReader(stdin, f)
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, &config.InputError{Input: FlagRequests, Value: name, Allowed: "a readable file of " + allowedRequests + ", or - for standard input (" + pathError(err) + ")"}
		}
		defer func() { _ = f.Close() }()
		src = f
	}
	rd := NewReader(src, name)
	for {
		_, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = rq.Close()
			return nil, err
		}
		rq.Count++
	}
	if rq.Count == 0 {
		_ = rq.Close()
		return nil, &config.InputError{Input: FlagRequests, Value: name, Allowed: allowedRequests + " (the file has no requests)"}
	}
	return rq, nil
}

// pathError is why a file could not be opened, without repeating its name.
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Open reads the requests again from the start.
func (rq *Requests) Open() (io.ReadCloser, error) {
	f, err := os.Open(rq.path)
	if err != nil {
		return nil, fmt.Errorf("reading %s again: %w", rq.Name, err)
	}
	return f, nil
}

// Close removes standard input's spool; a file is left alone.
func (rq *Requests) Close() error {
	if !rq.spool {
		return nil
	}
	return os.Remove(rq.path)
}
