package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// compareGateway starts green and blue model versions on loopback behind the test gateway and
// returns its URL and a counter of the requests that reached either version.
func compareGateway(t *testing.T, green, blue *scoringmock.Model) (string, *atomic.Int64) {
	t.Helper()
	var sent atomic.Int64
	counted := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent.Add(1); h.ServeHTTP(w, r) })
	}
	g := httptest.NewServer(counted(scoringmock.Handler(scoringmock.Options{Model: green})))
	b := httptest.NewServer(counted(scoringmock.Handler(scoringmock.Options{Model: blue})))
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": g.URL, "blue": b.URL},
		Routes: []summary.HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
			{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}}}))
	t.Cleanup(func() { gw.Close(); g.Close(); b.Close() })
	return gw.URL, &sent
}

func linear(threshold float64) *scoringmock.Model {
	return &scoringmock.Model{Weights: []float64{0.25, 0.5}, Bias: -0.1, Threshold: threshold, Labels: scoringmock.DefaultLabels}
}

// requestsFile writes n grid requests and returns the file's path.
func requestsFile(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[%g, %g]\n", float64(i%100)/100, float64(i/100)/10)
	}
	p := filepath.Join(t.TempDir(), "requests.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompareCommand: `mlcanary compare` through the gateway exits 0 when blue agrees (printing
// the report), 1 with one error line when its labels flip, and reads standard input with -.
func TestCompareCommand(t *testing.T) {
	t.Parallel()
	file := requestsFile(t, 1000)
	same, _ := compareGateway(t, linear(0.5123), linear(0.5123))
	// Without the cluster the routes are unknown: answers all byte for byte alike cannot be told from
	// green answering both copies, so they are undecided (TestIntegrationCompareCommand checks them).
	code, out, errOut := runCLIEnv(nil, "compare", "--gateway", same, "--requests", file)
	if code != ExitFailed || !strings.Contains(out, "### mlcanary compare: ❔ undecided") ||
		!strings.HasPrefix(errOut, "mlcanary: the comparison is undecided: blue answered all 1000 requests both versions answered validly byte for byte like green") ||
		!strings.Contains(errOut, "give --namespace to check the live header routes") {
		t.Errorf("identical: exit %d, stderr %q, report:\n%s", code, errOut, out)
	}
	flipped, _ := compareGateway(t, linear(0.5123), linear(0.6123))
	code, out, errOut = runCLIEnv(nil, "compare", "--gateway", flipped, "--requests", file, "-o", "json", "-k", "2")
	var r struct {
		Verdict   string
		Divergent []struct{ Line int }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if code != ExitFailed || r.Verdict != "degraded" || len(r.Divergent) != 2 || strings.Count(errOut, "\n") != 1 ||
		!strings.HasPrefix(errOut, "mlcanary: blue's answers differ from green's: ") {
		t.Errorf("label flips: exit %d, verdict %s, %d divergent, stderr %q", code, r.Verdict, len(r.Divergent), errOut)
	}
	data, _ := os.ReadFile(file)
	var stdout, stderr bytes.Buffer
	code = Run(context.Background(), Streams{In: bytes.NewReader(data), Out: &stdout, Err: &stderr},
		[]string{"compare", "--gateway", flipped, "--requests", "-", "--field", "score"}, noEnv)
	if code != ExitOK || !strings.Contains(stdout.String(), "blue agrees with green") {
		t.Errorf("standard input: exit %d, stderr %q", code, stderr.String())
	}
}

// TestCompareRejects: bad input is one line naming the input (a bad line: its number), exit 2, and
// no request reaches either version.
func TestCompareRejects(t *testing.T) {
	t.Parallel()
	gw, sent := compareGateway(t, linear(0.5), linear(0.5))
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("[1, 2]\n[3, 4]\n\n{\"body\": [1, 2], \"token\": \"s3cr3t\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := requestsFile(t, 10)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a bad line names its number", []string{"--gateway", gw, "--requests", bad}, `invalid requests "` + bad + `": allowed: JSON Lines: one request per line, a JSON body or {"body": …, "headers": {"name": "value"}, "path": "/score"} (line 4: a line with a "body" member takes only "body", "headers" (names to strings) and "path": it has the member "token")`},
		{"no file", []string{"--gateway", gw, "--requests", filepath.Join(dir, "none.jsonl")}, `invalid requests "` + filepath.Join(dir, "none.jsonl") + `": allowed: a readable file of JSON Lines`},
		{"no requests flag", []string{"--gateway", gw}, `invalid requests "": allowed: a JSON Lines file of requests, or - for standard input`},
		{"no gateway", []string{"--requests", good}, `invalid gateway "": allowed: the gateway's http(s) address without a path or credentials, e.g. 20.1.2.3`},
		{"gateway with a path", []string{"--gateway", gw + "/score", "--requests", good}, `invalid gateway "` + gw + `/score"`},
		{"credentials are not shown", []string{"--gateway", "http://me:pw@1.2.3.4", "--requests", good}, `invalid gateway "http://me:xxxxx@1.2.3.4"`},
		{"max disagreement 100", []string{"--gateway", gw, "--requests", good, "--max-disagreement", "100"}, `invalid max-disagreement "100": allowed: a percentage above 6.64e-07 and below 100, e.g. 1 (at confidence 0.99 a smaller one would take more than 10⁹ requests that all agree to prove blue agrees)`},
		{"max disagreement 0", []string{"--gateway", gw, "--requests", good, "--max-disagreement", "0"}, `invalid max-disagreement "0": allowed: a percentage above 6.64e-07 and below 100, e.g. 1 (at confidence 0.99 a smaller one would take more than 10⁹ requests that all agree to prove blue agrees)`},
		{"confidence 1", []string{"--gateway", gw, "--requests", good, "--confidence", "1"}, `invalid confidence "1": allowed: a fraction from 0.5 to below 1, e.g. 0.99`},
		{"bad field", []string{"--gateway", gw, "--requests", good, "--field", "a..b"}, `invalid field "a..b": allowed: a JSON path of member names and [N] indices, e.g. label, $.scores[0] or ["a.b"] (a member name is empty)`},
		{"bad shift field", []string{"--gateway", gw, "--requests", good, "--shift-field", "a["}, `invalid shift-field "a["`},
		{"negative tolerance", []string{"--gateway", gw, "--requests", good, "--abs-tolerance", "-1"}, `invalid abs-tolerance "-1": allowed: a number of 0 or more, e.g. 1e-6`},
		{"path", []string{"--gateway", gw, "--requests", good, "--path", "score"}, `invalid path "score": allowed: a path starting with /, e.g. /score`},
		{"header", []string{"--gateway", gw, "--requests", good, "--header", "x api"}, `invalid header "x api": allowed: a header name, e.g. x-api-version`},
		{"top", []string{"--gateway", gw, "--requests", good, "-k", "1001"}, `invalid top "1001": allowed: a whole number from 0 to 1000`},
		{"output", []string{"--gateway", gw, "--requests", good, "-o", "yaml"}, `invalid output "yaml"`},
	} {
		code, out, errOut := runCLIEnv(nil, append([]string{"compare"}, tc.args...)...)
		if code != ExitInvalid || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "mlcanary: "+tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and the one line\nmlcanary: %s", tc.name, code, out, errOut, tc.want)
		}
		if strings.Contains(errOut, "s3cr3t") || strings.Contains(errOut, ":pw@") {
			t.Errorf("%s: a secret in the error: %s", tc.name, errOut)
		}
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d requests reached the versions on bad input, want none", n)
	}
}

// TestIntegrationCompareCommand (found by the #11 break-it review, C1): with --namespace compare
// reads the live VirtualService from a real API server and sends nothing unless it has a header
// route to each version on compare's header and blue is deployed; then byte-for-byte identical
// answers agree. Without it, green answering both copies would have "agreed".
func TestIntegrationCompareCommand(t *testing.T) {
	env := shared.Env(t)
	env.StartController(t)
	stageBlue30(t, env, "compare")
	kubeconfig := env.Kubeconfig(t)
	file := requestsFile(t, 1000)
	same, _ := compareGateway(t, linear(0.5123), linear(0.5123))
	code, out, errOut := runCLIEnv(nil, "compare", "--gateway", same, "--requests", file, "--kubeconfig", kubeconfig, "-n", "compare")
	if code != ExitOK || errOut != "" || !strings.Contains(out, "### mlcanary compare: ✅ blue agrees with green") {
		t.Errorf("identical versions, live routes to both: exit %d, stderr %q, report:\n%s", code, errOut, out)
	}
	gw, sent := compareGateway(t, linear(0.5123), linear(0.5123))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"another routing header than the VirtualService's", []string{"--header", "x-model", "-n", "compare"},
			"mlcanary: the VirtualService has no header route x-model: blue to blue, so blue's copy of each request would reach the default route"},
		{"a namespace without blue", []string{"-n", "compare-empty"}, "mlcanary: reading the live routes in namespace compare-empty: "},
	} {
		code, out, errOut := runCLIEnv(nil, append([]string{"compare", "--gateway", gw, "--requests", file, "--kubeconfig", kubeconfig}, tc.args...)...)
		if code != ExitFailed || out != "" || !strings.HasPrefix(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and\n%s", tc.name, code, out, errOut, tc.want)
		}
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d requests sent although the routes cannot reach both versions", n)
	}
}
