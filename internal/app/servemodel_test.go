package app

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer a running command and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// noEnv is an empty environment.
func noEnv(string) (string, bool) { return "", false }

// run runs mlcanary with args and returns the exit code, stdout and stderr.
func run(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut syncBuffer
	code := Run(ctx, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, args, noEnv)
	return code, out.String(), errOut.String()
}

var servingLine = regexp.MustCompile(`serving "(.*)" on (http://\S+/score)`)

// TestServeModelCommand runs serve-model on a loopback port, asks it, and stops it like Ctrl-C.
func TestServeModelCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Streams{Out: io.Discard, Err: &errOut},
			[]string{"serve-model", "--addr", "127.0.0.1:0", "--answer", "New Model B"}, noEnv)
	}()
	var url string
	for deadline := time.Now().Add(5 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := servingLine.FindStringSubmatch(errOut.String()); m != nil {
			url = m[2]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("serve-model did not say where it listens; stderr:\n%s", errOut.String())
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Post(url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if got := string(body); got != "\"New Model B\"\n" {
		t.Errorf("POST /score = %q, want the JSON string \"New Model B\"", got)
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit code after Ctrl-C = %d, want 0; stderr:\n%s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve-model did not stop within 10s of Ctrl-C")
	}
}

// TestServeModelWeights runs serve-model's model mode on a loopback port: /score answers the
// linear model's score and label of the posted numbers.
func TestServeModelWeights(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Streams{Out: io.Discard, Err: &errOut},
			[]string{"serve-model", "--addr", "127.0.0.1:0", "--weights", "0.25,0.5", "--bias", "-0.1", "--labels", "cat,dog"}, noEnv)
	}()
	var url string
	for deadline := time.Now().Add(5 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := servingLine.FindStringSubmatch(errOut.String()); m != nil {
			url = m[2]
		}
	}
	if url == "" {
		t.Fatalf("serve-model did not say where it listens; stderr:\n%s", errOut.String())
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Post(url, "application/json", strings.NewReader(`[1, 1]`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if got, want := string(body), `{"score":0.65,"label":"dog"}`+"\n"; got != want {
		t.Errorf("POST /score [1, 1] = %q, want %q", got, want)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit code after Ctrl-C = %d, want 0; stderr:\n%s", code, errOut.String())
	}
}

func TestServeModelCommandRejects(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Close() }) // not defer: the parallel subtests run after this function returns
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"fail rate above 1", []string{"--fail-rate", "1.5"}, ExitInvalid, `invalid fail-rate "1.5": allowed: a fraction from 0 to 1`},
		{"success as failure status", []string{"--fail-status", "200"}, ExitInvalid, `invalid fail-status "200": allowed: an HTTP error status from 400 to 599`},
		{"negative latency", []string{"--latency", "-1s"}, ExitInvalid, `invalid latency "-1s"`},
		{"negative ready-after", []string{"--ready-after", "-1s"}, ExitInvalid, `invalid ready-after "-1s": allowed: a duration of 0 or more, e.g. 30s`},
		{"ready-after not a duration", []string{"--ready-after", "soon"}, ExitInvalid, `invalid ready-after "soon": allowed: a duration of 0 or more, e.g. 30s`},
		{"address without port", []string{"--addr", "localhost"}, ExitInvalid, `invalid addr "localhost": allowed: HOST:PORT or :PORT`},
		{"not a number", []string{"--fail-rate", "half"}, ExitInvalid, `invalid fail-rate "half": allowed: a fraction from 0 to 1`},
		{"argument", []string{"extra"}, ExitInvalid, `unknown command "extra"`},
		{"model setting without the model", []string{"--threshold", "1"}, ExitInvalid, `invalid weights "": allowed:`},
		{"weights mixed", []string{"--weights", "a=1,2"}, ExitInvalid, `invalid weights "a=1,2": allowed:`},
		{"port in use", []string{"--addr", busy.Addr().String()}, ExitFailed, "listening on " + busy.Addr().String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := run(t.Context(), append([]string{"serve-model"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.wantErr) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line containing %q", code, errOut, tc.code, tc.wantErr)
			}
		})
	}
}

// TestServeModelReadyAfter: `serve-model --ready-after` on a real loopback port answers "/" (the
// readiness probe's default path) 503 while its pretend model loads and 200 once the time has
// passed, not before.
func TestServeModelReadyAfter(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int, 1)
	start := time.Now()
	go func() {
		done <- Run(ctx, Streams{Out: io.Discard, Err: &errOut},
			[]string{"serve-model", "--addr", "127.0.0.1:0", "--ready-after", "1500ms"}, noEnv)
	}()
	var url string
	for deadline := time.Now().Add(5 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := servingLine.FindStringSubmatch(errOut.String()); m != nil {
			url = strings.TrimSuffix(m[2], "/score")
		}
	}
	if url == "" {
		t.Fatalf("serve-model did not say where it listens; stderr:\n%s", errOut.String())
	}
	client := &http.Client{Timeout: 5 * time.Second}
	status := func() int {
		resp, err := client.Get(url + "/")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	sawLoading := false
	for status() != http.StatusOK {
		sawLoading = true
		if time.Since(start) > 10*time.Second {
			t.Fatal(`GET / did not answer 200 within 10s of a 1.5s --ready-after`)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(start); !sawLoading || took < 1500*time.Millisecond {
		t.Errorf("GET / answered 200 after %s (503 seen first: %v), want 503 until 1.5s had passed", took, sawLoading)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit code after Ctrl-C = %d, want 0; stderr:\n%s", code, errOut.String())
	}
}
