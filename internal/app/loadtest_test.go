package app

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

var documentedRoutes = []summary.HeaderRoute{
	{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
	{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"},
}

// gateway starts the documented mockups ("New Model A" green, "New Model B" blue) behind a
// simulated gateway that really splits by actual, and returns its base URL.
func gateway(t *testing.T, actual summary.Weights, routes []summary.HeaderRoute, latency time.Duration) string {
	t.Helper()
	green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model A", Latency: latency}))
	blue := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model B", Latency: latency}))
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{
		Backends: map[string]string{"green": green.URL, "blue": blue.URL}, Weights: actual, Routes: routes, Seed: 7,
	}))
	t.Cleanup(func() { gw.Close(); green.Close(); blue.Close() })
	return gw.URL
}

func TestLoadtestCommand(t *testing.T) {
	t.Parallel()
	even := gateway(t, summary.Weights{Green: 50, Blue: 50}, documentedRoutes, 0)
	skewed := gateway(t, summary.Weights{Green: 90, Blue: 10}, documentedRoutes, 0)
	// The documented form: no scheme, as in load_test.sh 10 $GATEWAY_IP/score blue.
	bare := strings.TrimPrefix(even, "http://") + "/score"
	tests := []struct {
		name    string
		args    []string
		code    int
		outHas  []string
		errHas  string
		answers int // lines that are an answer, with --print
	}{
		{"print like load_test.sh", []string{bare, "-n", "10", "--version", "blue", "--print"}, ExitOK,
			[]string{"\"New Model B\"\n\"New Model B\"\n", "Requests: 10 in", `"New Model B"  10     100.0%`}, "", 10},
		{"green header route", []string{even + "/score", "-n", "50", "--version", "green"}, ExitOK,
			[]string{`"New Model A"  50     100.0%`, "Latency: p50 "}, "", 0},
		{"custom header name misses the route", []string{even + "/score", "-n", "400", "-c", "4", "--version", "blue", "--version-header", "x-other",
			"--expect", "New Model A=50,New Model B=50", "--tolerance", "20"}, ExitOK, []string{"Verdict: the observed split agrees"}, "", 0},
		{"--expect without -n sends enough to decide", []string{even + "/score", "-c", "8", "--expect", "New Model A=50,New Model B=50", "--tolerance", "10"}, ExitOK,
			[]string{"Verdict: the observed split agrees with the expected one (788 responses)."}, "", 0},
		{"expected split holds", []string{even + "/score", "-n", "4000", "-c", "8", "--expect", "New Model A=50,New Model B=50"}, ExitOK,
			[]string{"Verdict: the observed split agrees with the expected one (4000 responses)."}, "", 0},
		{"90/10 is not 50/50", []string{skewed + "/score", "-n", "1000", "-c", "8", "--expect", "New Model A=50,New Model B=50"}, ExitFailed,
			[]string{"DISAGREES: off by +"}, `the observed split disagrees with --expect: "New Model A" is `, 0},
		{"too few to decide", []string{even + "/score", "-n", "30", "--expect", "New Model A=50,New Model B=50"}, ExitFailed,
			[]string{"Verdict: too few responses to decide (30)"}, "too few answers (30) to check --expect; about ", 0},
		{"nothing answers", []string{closedURL(t), "-n", "3"}, ExitFailed,
			[]string{"connection refused  3"}, "none of the 3 requests to http://127.0.0.1:", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t.Context(), append([]string{"loadtest"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			for _, s := range tc.outHas {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if tc.errHas == "" && errOut != "" || !strings.Contains(errOut, tc.errHas) {
				t.Errorf("stderr = %q, want %q", errOut, tc.errHas)
			}
			if got := strings.Count(out, "\"New Model B\"\n"); tc.answers > 0 && got != tc.answers {
				t.Errorf("%d answer lines printed, want %d", got, tc.answers)
			}
		})
	}
}

// closedURL is a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	return "http://" + ln.Addr().String() + "/score"
}

func TestLoadtestCommandJSON(t *testing.T) {
	t.Parallel()
	url := gateway(t, summary.Weights{Blue: 100}, documentedRoutes, 0) + "/score"
	code, out, errOut := run(t.Context(), "loadtest", url, "-n", "20", "-c", "2", "-o", "json", "--print")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Completed int
		Answers   []struct {
			Answer string
			Count  int
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not JSON (the --print lines belong on stderr): %v\n%s", err, out)
	}
	want := `{"Completed":20,"Answers":[{"Answer":"New Model B","Count":20}]}`
	b, _ := json.Marshal(got)
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if n := strings.Count(errOut, "\"New Model B\"\n"); n != 20 {
		t.Errorf("%d answers printed on stderr, want 20", n)
	}
}

// TestLoadtestCommandInterrupted stops a long run like Ctrl-C: the partial tally is printed and the
// exit code says the run did not finish.
func TestLoadtestCommandInterrupted(t *testing.T) {
	t.Parallel()
	target, err := neturl.Parse(gateway(t, summary.Weights{Green: 100}, documentedRoutes, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// Ctrl-C once 20 requests were answered (not after a fixed time, which a loaded machine may
	// spend before the first answer), so the partial tally always has answers to show.
	ctx, cancel := context.WithCancel(t.Context())
	var answered atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxy.ServeHTTP(w, r)
		if answered.Add(1) == 20 {
			cancel()
		}
	}))
	t.Cleanup(front.Close)
	url := front.URL + "/score"
	start := time.Now()
	code, out, errOut := run(ctx, "loadtest", url, "-n", "1000000", "-c", "4")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s to stop after Ctrl-C", took)
	}
	if code != ExitFailed || errOut != "mlcanary: interrupted: the tally above is partial\n" {
		t.Errorf("exit %d, stderr %q; want 1 and the partial-tally message", code, errOut)
	}
	for _, s := range []string{"Interrupted: partial tally", `"New Model A"`, "0 failed"} {
		if !strings.Contains(out, s) {
			t.Errorf("stdout lacks %q:\n%s", s, out)
		}
	}
}

func TestLoadtestCommandRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no URL", nil, "loadtest takes one URL (got 0 arguments)"},
		{"not http", []string{"ftp://x/score"}, `invalid URL "ftp://x/score": allowed: an http(s) URL`},
		{"version", []string{"h/score", "--version", "purple"}, `invalid version "purple": allowed: blue or green`},
		{"header", []string{"h/score", "--header", "x-api-version"}, `invalid header "x-api-version": allowed: name=value`},
		{"expect", []string{"h/score", "--expect", "New Model A"}, `invalid expect "New Model A": allowed: ANSWER=WEIGHT pairs`},
		{"output", []string{"h/score", "-o", "yaml"}, `invalid output "yaml": allowed: text or json`},
		{"concurrency", []string{"h/score", "-c", "0"}, `invalid concurrency "0"`},
		{"method", []string{"h/score", "-m", "DELETE"}, `invalid method "DELETE": allowed: GET or POST`},
		{"confidence", []string{"h/score", "--confidence", "1"}, `invalid confidence "1"`},
		{"tolerance", []string{"h/score", "--tolerance", "0"}, `invalid tolerance "0"`},
		{"requests", []string{"h/score", "-n", "-5"}, `invalid requests "-5"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t.Context(), append([]string{"loadtest"}, tc.args...)...)
			if code != ExitInvalid || !strings.Contains(errOut, tc.wantErr) || strings.Count(errOut, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no output and one line containing %q", code, out, errOut, tc.wantErr)
			}
		})
	}
}
