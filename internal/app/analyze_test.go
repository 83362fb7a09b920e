package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakePrometheus answers /api/v1/query like Prometheus for the analysis's six queries: each
// version's requests (rows of response code → requests in the 15m before it started, growing
// linearly on at that rate, scraped every 10s up to the query's time), none answered for lack of an upstream, and durations where slow of
// each version's requests took over 1000ms, as of the query's time (the gate measures a first look's
// past parts too). It counts the queries it was sent.
func fakePrometheus(t *testing.T, codes map[string]map[string]int, slow map[string]int) (*httptest.Server, *atomic.Int64) {
	var asked atomic.Int64
	now := time.Now()
	row := func(at time.Time, labels map[string]string, total int) map[string]any {
		var values [][2]any
		for sec := 900; ; sec -= 10 {
			ts := now.Add(-time.Duration(sec) * time.Second)
			if ts.After(at) {
				break
			}
			values = append(values, [2]any{float64(ts.UnixMilli()) / 1000, fmt.Sprint(int64(total) * int64(900-sec) / 900)})
		}
		return map[string]any{"metric": labels, "values": values}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		_ = r.ParseForm()
		q := r.Form.Get("query")
		at := now // the query's time: samples after it are not there yet
		if sec, err := strconv.ParseFloat(r.Form.Get("time"), 64); err == nil {
			at = time.UnixMilli(int64(sec * 1000))
		}
		result := []map[string]any{}
		for _, v := range []string{"blue", "green"} {
			if !strings.Contains(q, `destination_workload="model-`+v+`"`) {
				continue
			}
			total := 0
			for code, n := range codes[v] {
				total += n
				if strings.HasPrefix(q, "istio_requests_total") {
					result = append(result, row(at, map[string]string{"response_code": code}, n))
				}
			}
			if strings.HasPrefix(q, "istio_request_duration_milliseconds_bucket") {
				result = append(result, row(at, map[string]string{"le": "1000"}, total-slow[v]), row(at, map[string]string{"le": "+Inf"}, total))
			}
		}
		body, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}})
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &asked
}

// TestAnalyzeExitCodes: 0 when blue agrees, 1 when degraded or undecided, with the report on stdout
// (text, or JSON holding decision and versions.blue.requests) and the reason once on stderr. --since
// an hour ago fills the window at once: one look, no cluster.
func TestAnalyzeExitCodes(t *testing.T) {
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		name     string
		codes    map[string]map[string]int
		slow     map[string]int
		code     int
		decision string
	}{
		{"equal versions", map[string]map[string]int{"blue": {"200": 20000, "503": 20}, "green": {"200": 20000, "503": 20}},
			map[string]int{"blue": 40, "green": 40}, ExitOK, "agrees"},
		{"blue +5 points of 5xx", map[string]map[string]int{"blue": {"200": 9400, "500": 600}, "green": {"200": 9900, "500": 100}},
			map[string]int{"blue": 10, "green": 10}, ExitFailed, "degraded"},
		{"too little traffic", map[string]map[string]int{"blue": {"200": 100}, "green": {"200": 100}},
			map[string]int{}, ExitFailed, "undecided"},
		{"no series", map[string]map[string]int{}, map[string]int{}, ExitFailed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := fakePrometheus(t, c.codes, c.slow)
			code, stdout, stderr := runCLIEnv(nil, "analyze", "--prometheus-url", srv.URL, "--since", since, "-o", "json")
			if code != c.code || strings.Count(stderr, "\n") > 1 {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, stderr)
			}
			if c.decision == "" {
				if !strings.Contains(stderr, "no series of istio_requests_total") {
					t.Errorf("stderr %q", stderr)
				}
				return
			}
			var r struct {
				Decision string
				Versions map[string]struct{ Requests int64 }
			}
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if r.Decision != c.decision || r.Versions["blue"].Requests == 0 {
				t.Errorf("decision %q, blue requests %d", r.Decision, r.Versions["blue"].Requests)
			}
		})
	}
	srv, _ := fakePrometheus(t, map[string]map[string]int{"blue": {"200": 9400, "500": 600}, "green": {"200": 9900, "500": 100}}, map[string]int{})
	code, stdout, stderr := runCLIEnv(nil, "analyze", "--prometheus-url", srv.URL, "--since", since)
	if code != ExitFailed || !strings.Contains(stdout, "Analysis: blue against green: degraded") || !strings.HasPrefix(stderr, "mlcanary: blue is degraded: errors: blue 6.00%") {
		t.Errorf("text: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestAnalyzeBadInput: every refused input exits 2 with one line naming it, before any query.
func TestAnalyzeBadInput(t *testing.T) {
	srv, asked := fakePrometheus(t, nil, nil)
	for _, c := range []struct {
		args  []string
		input string
	}{
		{[]string{}, "prometheus-url"},
		{[]string{"--prometheus-url", "prometheus:9090"}, "prometheus-url"},
		{[]string{"--prometheus-url", "http://alice:hunter2@prometheus:9090"}, "prometheus-url"},
		{[]string{"--window", "30s"}, "window"},
		{[]string{"--interval", "20m"}, "interval"},
		{[]string{"--interval", "abc"}, "interval"},
		{[]string{"--latency-slo", "0s"}, "latency-slo"},
		{[]string{"--max-error-increase", "100"}, "max-error-increase"},
		{[]string{"--max-slow-increase", "-1"}, "max-slow-increase"},
		{[]string{"--confidence", "1"}, "confidence"},
		{[]string{"--since", "yesterday"}, "since"},
		{[]string{"--prometheus-token-file", "/t", "--prometheus-user", "u", "--prometheus-password-file", "/p"}, "prometheus-token-file"},
		{[]string{"--prometheus-user", "u"}, "prometheus-password-file"},
		{[]string{"-o", "yaml"}, "output"},
		{[]string{"--namespace", "Bad_NS"}, "namespace"},
		{[]string{"--blue-deployment", "model-green"}, "blue-deployment"},
	} {
		args := append([]string{"analyze", "--prometheus-url", srv.URL, "--since", "2026-11-29T12:00:00Z"}, c.args...)
		if len(c.args) == 0 {
			args = []string{"analyze", "--since", "2026-11-29T12:00:00Z"}
		}
		code, _, stderr := runCLIEnv(nil, args...)
		if code != ExitInvalid || !oneInputLine.MatchString(stderr) || !strings.HasPrefix(stderr, "mlcanary: invalid "+c.input+" ") {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("%v: the password is printed: %q", c.args, stderr)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("%d queries sent on bad input", n)
	}
}

// TestAnalyzeReadsTheSplitsLastChange: without --since, analyze reads when the split last changed
// from the VirtualService's record on a real API server, and judges from then: the window in its
// JSON report starts at the recorded change; at a split that gives blue nothing (Blue_0) it fails at
// once in one line naming the split.
func TestAnalyzeReadsTheSplitsLastChange(t *testing.T) {
	e := shared.Env(t)
	e.StartController(t)
	const ns = "analyze-change"
	stageBlue30(t, e, ns)
	kc := e.Kubeconfig(t)
	code, out, errs := runCLI(t, kc, "status", "-n", ns, "-o", "json")
	var st struct{ ChangedAt time.Time }
	if code != ExitOK || json.Unmarshal([]byte(out), &st) != nil || st.ChangedAt.IsZero() {
		t.Fatalf("status: exit %d: %s %s", code, out, errs)
	}
	// 2,000,000 requests each in 15 minutes: a scrape's worth since the change would decide, and the
	// judge decides once each version has requests in 3 looks (analysis.MinLooks).
	srv, _ := fakePrometheus(t, map[string]map[string]int{"blue": {"200": 2000000}, "green": {"200": 2000000}}, map[string]int{})
	code, out, errs = runCLI(t, kc, "analyze", "-n", ns, "--prometheus-url", srv.URL, "--window", "1m", "--interval", "15s", "-o", "json")
	var r struct{ Window struct{ Start time.Time } }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("exit %d: %v: %s %s", code, err, out, errs)
	}
	if code != ExitOK || !r.Window.Start.Equal(st.ChangedAt) {
		t.Errorf("exit %d (%s), window starts %s, the split changed at %s", code, errs, r.Window.Start, st.ChangedAt)
	}
	// At a first release's Blue_0 blue gets no traffic: no amount of it could decide, so the one line says why at once.
	const atBlue0 = "analyze-blue0"
	check(t, e.CreateNamespace(context.Background(), atBlue0))
	if code, _, errs := runCLI(t, kc, "stage", "Blue_0", "-n", atBlue0, "--image="+causeImage, "--timeout=60"); code != ExitOK {
		t.Fatalf("Blue_0: exit %d: %s", code, errs)
	}
	code, _, errs = runCLI(t, kc, "analyze", "-n", atBlue0, "--prometheus-url", srv.URL)
	if code != ExitFailed || !strings.HasPrefix(errs, "mlcanary: the live split (") || !strings.Contains(errs, ") gives blue no traffic") || strings.Count(errs, "\n") != 1 {
		t.Errorf("analyze at Blue_0: exit %d, %q", code, errs)
	}
	code, _, errs = runCLI(t, kc, "analyze", "-n", "analyze-absent", "--prometheus-url", srv.URL)
	if code != ExitFailed || !strings.HasPrefix(errs, "mlcanary: reading when the split last changed: ") || strings.Count(errs, "\n") != 1 {
		t.Errorf("a namespace without the VirtualService: exit %d, %q", code, errs)
	}
}

// TestAnalyzePairedLoad: --source loadtest needs no metrics backend and no cluster: paired requests
// through the gateway's header routes decide, exit 0 for equal versions and 1 for a blue failing
// every tenth request; its inputs are refused in one line like the others.
func TestAnalyzePairedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: sends paired load for seconds")
	}
	for _, c := range []struct {
		name      string
		blueFails bool
		code      int
	}{{"equal versions", false, ExitOK}, {"blue fails 10%", true, ExitFailed}} {
		var n atomic.Int64
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/score" || (r.Header.Get("x-api-version") != "blue" && r.Header.Get("x-api-version") != "green") {
				http.NotFound(w, r)
				return
			}
			if r.Header.Get("x-api-version") == "blue" && c.blueFails && n.Add(1)%10 == 0 {
				http.Error(w, "model error", http.StatusInternalServerError)
				return
			}
			_, _ = w.Write([]byte(`"answer"`))
		}))
		code, out, errs := runCLIEnv(nil, "analyze", "--source", "loadtest", "--gateway", gw.URL, "--rate", "1000", "-c", "20",
			"--window", "1m", "--interval", "2s", "--latency-slo", "5s")
		gw.Close()
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", c.name, code, c.code, out, errs)
		}
	}
	for _, c := range []struct {
		args  []string
		input string
	}{
		{[]string{"--source", "graphite"}, "source"},
		{[]string{"--source", "loadtest"}, "gateway"},
		{[]string{"--source", "loadtest", "--gateway", "http://alice:hunter2@20.1.2.3"}, "gateway"},
		{[]string{"--source", "loadtest", "--gateway", "20.1.2.3", "--rate", "0"}, "rate"},
		{[]string{"--source", "loadtest", "--gateway", "20.1.2.3", "-c", "0"}, "concurrency"},
	} {
		code, _, stderr := runCLIEnv(nil, append([]string{"analyze"}, c.args...)...)
		if code != ExitInvalid || !oneInputLine.MatchString(stderr) || !strings.HasPrefix(stderr, "mlcanary: invalid "+c.input+" ") || strings.Contains(stderr, "hunter2") {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
	}
}
