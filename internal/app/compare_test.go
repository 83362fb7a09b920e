package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/compare"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/kube"
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
// reads the live VirtualService from a real API server and sends nothing unless each line's copy
// for each version reaches that version's own Service through it and blue is deployed; then
// byte-for-byte identical answers agree. Without it, green answering both copies would have "agreed".
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
			`mlcanary: line 1's copy for blue (POST /score with x-model: blue) is taken by route http[2] "mlcanary-default" (no match → model-svc-green:5001 weight 70, model-svc-blue:5001 weight 30), which splits it by weight (green 70, blue 30), not to blue's own Service`},
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

// TestIntegrationCompareRefusesAMeshOnlyBlueRoute (found by the second #11 break-it review, D1): on
// the real API server after Blue_30, the platform team restricts blue's header route to in-mesh
// callers (a kubectl edit adding gateways: [mesh] to its match). Through the ingress gateway, which
// here routes by that very VirtualService as Istio does, compare's x-api-version: blue copy now
// falls to the default route (70/30); compare -n reads the live VirtualService, sends nothing and
// exits 1 naming the route that takes blue's copy.
func TestIntegrationCompareRefusesAMeshOnlyBlueRoute(t *testing.T) {
	env := shared.Env(t)
	env.StartController(t)
	const ns = "compare-mesh"
	stageBlue30(t, env, ns)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	vss := env.Dynamic.Resource(kube.VirtualServices).Namespace(ns)
	vs, err := vss.Get(ctx, config.Default().VirtualService, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for _, r := range routes {
		if route := r.(map[string]any); route["name"] == "mlcanary-blue" {
			for _, m := range route["match"].([]any) {
				m.(map[string]any)["gateways"] = []any{"mesh"}
			}
		}
	}
	if err := unstructured.SetNestedSlice(vs.Object, routes, "spec", "http"); err != nil {
		t.Fatal(err)
	}
	edited, err := vss.Update(ctx, vs, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	if err != nil {
		t.Fatal(err)
	}

	var sent atomic.Int64
	counted := func(m *scoringmock.Model) *httptest.Server {
		h := scoringmock.Handler(scoringmock.Options{Model: m})
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent.Add(1); h.ServeHTTP(w, r) }))
		t.Cleanup(s.Close)
		return s
	}
	cfg := config.Default()
	cfg.Namespace = ns
	live := compare.NewLive(&cfg, edited.Object)
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": counted(linear(0.5123)).URL, "blue": counted(linear(0.6123)).URL},
		VirtualService: edited.Object, VersionOf: live.VersionOf, Gateway: live.Gateway, Namespace: ns}))
	t.Cleanup(gw.Close)

	code, out, errOut := runCLIEnv(nil, "compare", "--gateway", gw.URL, "--requests", requestsFile(t, 1000), "--kubeconfig", env.Kubeconfig(t), "-n", ns)
	want := `mlcanary: line 1's copy for blue (POST /score with x-api-version: blue) is taken by route http[2] "mlcanary-default"`
	if code != ExitFailed || out != "" || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 || sent.Load() != 0 {
		t.Errorf("blue's header route only matches in-mesh traffic: exit %d, %d requests sent, stdout %q, stderr %q\nwant exit 1 and %s…", code, sent.Load(), out, errOut, want)
	}
}

// TestCompareCommandInterrupted (second #11 break-it review, D7): Ctrl-C or SIGTERM in the middle
// of a comparison prints the partial report and exits 1 saying it was interrupted, never 0 "agrees",
// as loadtest's partial tally.
func TestCompareCommandInterrupted(t *testing.T) {
	t.Parallel()
	gw, _ := compareGateway(t, linear(0.5123), linear(0.5123))
	target := strings.TrimPrefix(gw, "http://")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var answered atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Scheme, r.URL.Host, r.RequestURI = "http", target, ""
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		if answered.Add(1) == 900 {
			cancel() // SIGTERM: the pipeline's cancel
		}
	}))
	t.Cleanup(front.Close)
	code, out, errOut := run(ctx, "compare", "--gateway", front.URL, "--requests", requestsFile(t, 5000), "-c", "4")
	if code != ExitFailed || !strings.HasPrefix(errOut, "mlcanary: the comparison is undecided: interrupted before every request was sent") ||
		!strings.Contains(out, "_Interrupted before every request was sent._") || strings.Contains(out, "agrees") {
		t.Errorf("exit %d, stderr %q, report:\n%s", code, errOut, out)
	}
}
