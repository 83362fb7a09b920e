package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// pairedGateway is the test gateway (gatewaysim) in front of two scoring mockups whose blue fails
// blueFails of its requests with a 500, honouring routes; its base URL.
func pairedGateway(t *testing.T, routes []summary.HeaderRoute, blueFails float64) string {
	t.Helper()
	green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model A"}))
	blue := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model B", FailRate: blueFails}))
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{
		Backends: map[string]string{"green": green.URL, "blue": blue.URL}, Weights: summary.Weights{Green: 50, Blue: 50}, Routes: routes, Seed: 3,
	}))
	t.Cleanup(func() { gw.Close(); green.Close(); blue.Close() })
	return gw.URL
}

// idlePrometheus answers every query like Prometheus for series that exist and never grow: each
// version's requests and durations, a sample every 15s up to the query's time. The versions have
// series but no traffic.
func idlePrometheus(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		q := r.Form.Get("query")
		at, err := strconv.ParseFloat(r.Form.Get("time"), 64)
		if err != nil {
			at = float64(time.Now().Unix())
		}
		var values [][2]any
		for sec := 1200; sec >= 0; sec -= 15 {
			values = append(values, [2]any{at - float64(sec), "0"})
		}
		result := []map[string]any{}
		for _, v := range []string{"blue", "green"} {
			switch {
			case !strings.Contains(q, `model-`+v+`"`) && !strings.Contains(q, `model-svc-`+v):
			case strings.HasPrefix(q, "istio_requests_total") && strings.Contains(q, `reporter="destination"`):
				result = append(result, map[string]any{"metric": map[string]string{"response_code": "200"}, "values": values})
			case strings.HasPrefix(q, "istio_request_duration_milliseconds_bucket"):
				for _, le := range []string{"1000", "+Inf"} {
					result = append(result, map[string]any{"metric": map[string]string{"le": le}, "values": values})
				}
			}
		}
		body, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}})
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fastClock makes the analysis gate's window pass at once: each wait between looks moves its clock
// on instead of sleeping.
func fastClock(t *testing.T) {
	var mu sync.Mutex
	var skipped time.Duration
	analysisClock = func(s *analyze.Settings) {
		s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(skipped) }
		s.Sleep = func(_ context.Context, d time.Duration) error { mu.Lock(); defer mu.Unlock(); skipped += d; return nil }
	}
	t.Cleanup(func() { analysisClock = nil })
}

// liveSplit is the namespace's stage and weights, as status reads them from the cluster's objects.
func liveSplit(t *testing.T, kubeconfig, ns string) (string, summary.Weights) {
	t.Helper()
	code, out, errs := runCLI(t, kubeconfig, "status", "-n", ns, "-o", "json")
	var st struct {
		Stage   string
		Weights summary.Weights
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status: exit %d: %s %s", code, out, errs)
	}
	return st.Stage, st.Weights
}

// TestStageAnalysis runs `mlcanary stage Blue_N --analysis` against a real API server, with paired
// load through the test gateway (--source loadtest) or Istio's metrics of a Prometheus whose
// series do not grow, one namespace moving on from Blue_30: equal versions agree (exit 0, traffic
// stays); a blue failing 30% of its requests with --on-degraded hold exits 1 and leaves the
// traffic; no traffic is undecided at the window's end (exit 1, no rollback); the same blue with
// the default --on-degraded rollback, judged in the bake after Blue_100, is rolled back at once,
// under the stage's lock, and the cluster's objects say all traffic is on green.
func TestStageAnalysis(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: sends paired load for seconds")
	}
	e := shared.Env(t)
	e.StartController(t)
	const ns = "stage-analysis"
	live := stageBlue30(t, e, ns)
	kc := e.Kubeconfig(t)
	healthy, failing := pairedGateway(t, live.Routes, 0), pairedGateway(t, live.Routes, 0.3)
	paired := func(gw string) []string {
		return []string{"--analysis", "--source", "loadtest", "--analysis-gateway", gw, "--rate", "1000", "-c", "20",
			"--window", "1m", "--interval", "2s", "--latency-slo", "5s"}
	}
	prom := idlePrometheus(t)
	for _, c := range []struct {
		name, stage string
		args        []string
		fast        bool
		code        int
		errHas      string
		outHas      []string
		after       string
		weights     summary.Weights
	}{
		{"equal versions agree", "Blue_50", paired(healthy), false, ExitOK, "",
			[]string{"Analysis: blue against green: agrees", "blue is not worse than green on any share"}, "Blue_50", summary.Weights{Green: 50, Blue: 50}},
		{"degraded blue held", "Blue_60", append(paired(failing), "--on-degraded", "hold"), false, ExitFailed,
			"mlcanary: Blue_60 holds, but blue is degraded: errors: blue 30.",
			[]string{"Analysis: blue against green: degraded"}, "Blue_60", summary.Weights{Green: 40, Blue: 60}},
		{"no traffic is undecided, not rolled back", "Blue_70", []string{"--analysis", "--prometheus-url", prom.URL, "--window", "2m", "--interval", "30s", "-o", "markdown"}, true, ExitFailed,
			"mlcanary: Blue_70 holds, but the analysis after it is undecided after 5 looks until ",
			[]string{"### mlcanary analysis: ⚠️ undecided", "nothing to compare yet", "| 🔵 blue | 0 | no requests |", "destination_workload=\"model-blue\"",
				"> **Failed:** traffic is left as Blue_70 put it."}, "Blue_70", summary.Weights{Green: 30, Blue: 70}},
		{"degraded blue rolled back from the Blue_100 bake", "Blue_100", append(paired(failing), "-o", "json"), false, ExitFailed,
			"mlcanary: Blue_100 held, but blue is degraded: errors: blue 30.",
			[]string{`"stage": "Rollback"`, `"decision": "degraded"`, `"action": "rolled back"`, `"after": "Blue_100"`}, "Rollback", summary.Weights{Green: 100, Blue: 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.fast {
				fastClock(t)
			}
			// When the analysis begins, the stage's run still holds the namespace's lock, for the stage it performed.
			var lockStage string
			if !c.fast {
				analysisClock = func(*analyze.Settings) {
					_, out, _ := runCLI(t, kc, "status", "-n", ns, "-o", "json")
					var st struct{ Lock *struct{ Stage string } }
					if json.Unmarshal([]byte(out), &st) == nil && st.Lock != nil {
						lockStage = st.Lock.Stage
					}
				}
				t.Cleanup(func() { analysisClock = nil })
			}
			start := time.Now()
			code, out, errs := runCLI(t, kc, append([]string{"stage", c.stage, "-n", ns, "--timeout", "60"}, c.args...)...)
			t.Logf("%s took %s", c.stage, time.Since(start).Round(time.Millisecond))
			// stderr is the stage's progress, then the run's one line.
			last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
			if code != c.code || c.errHas != "" && (!strings.HasPrefix(last, c.errHas) || strings.Count(errs, "mlcanary: ") != 1) {
				t.Errorf("exit %d (want %d), stderr %q (want %q…)\n%s", code, c.code, errs, c.errHas, out)
			}
			for _, want := range c.outHas {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, `"decision"`) {
				var r struct {
					Analysis struct {
						Decision string
						Versions map[string]struct{ Requests, Errors int64 }
					}
				}
				if err := json.Unmarshal([]byte(out), &r); err != nil || r.Analysis.Versions["blue"].Requests == 0 || r.Analysis.Versions["blue"].Errors == 0 {
					t.Errorf("-o json: %v, %+v", err, r)
				}
			}
			if stage, w := liveSplit(t, kc, ns); stage != c.after || w != c.weights {
				t.Errorf("the cluster is at %s %+v, want %s %+v", stage, w, c.after, c.weights)
			}
			if !c.fast && lockStage != c.stage {
				t.Errorf("when the analysis began, the lock was held for %q, want %s", lockStage, c.stage)
			}
		})
	}
}

// TestCIFrontEndsAnalyze runs the GitHub Action and the Azure DevOps task (in process, their
// inputs from the environment as the runners pass them) with the analysis inputs against a real API
// server and paired load through the test gateway: each sets the decision output and shows the
// analysis's section (decision, the shares table, the queries) in its run summary after the stage's;
// the action's agreeing blue passes, the task's degraded blue with onDegraded hold fails, its
// traffic left where the stage put it.
func TestCIFrontEndsAnalyze(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: sends paired load for seconds")
	}
	e := shared.Env(t)
	e.StartController(t)
	const ns = "ci-analysis"
	live := stageBlue30(t, e, ns)
	kubeconfig, err := os.ReadFile(e.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	healthy, failing := pairedGateway(t, live.Routes, 0), pairedGateway(t, live.Routes, 0.3)

	dir := t.TempDir()
	gh := map[string]string{"GITHUB_ACTIONS": "true", "HOME": dir, "INPUT_STAGE": "Blue_40", "INPUT_NAMESPACE": ns,
		"INPUT_KUBECONFIG": string(kubeconfig), "INPUT_TIMEOUT": "60",
		"INPUT_ANALYSIS": "true", "INPUT_SOURCE": "loadtest", "INPUT_ANALYSIS_GATEWAY": healthy, "INPUT_RATE": "1000",
		"INPUT_CONCURRENCY": "20", "INPUT_WINDOW": "1m", "INPUT_INTERVAL": "2s", "INPUT_LATENCY_SLO": "5s",
		"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md")}
	code, out := runFrontEnd(t, []string{"github-action"}, gh)
	outs := githubOutputs(t, gh["GITHUB_OUTPUT"])
	sum, _ := os.ReadFile(gh["GITHUB_STEP_SUMMARY"])
	if code != ExitOK || outs["decision"] != "agrees" || outs["stage"] != "Blue_40" {
		t.Errorf("action: exit %d, outputs %v\n%s", code, outs, out)
	}
	for _, want := range []string{"### mlcanary analysis: ✅ blue agrees with green", "| version | requests | errors |", "with x-api-version: blue"} {
		if !strings.Contains(string(sum), want) || strings.Index(string(sum), want) < strings.Index(string(sum), "pie showData") {
			t.Errorf("step summary lacks %q after the stage's:\n%s", want, sum)
		}
	}

	az := map[string]string{"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": t.TempDir(), "INPUT_KUBERNETESSERVICECONNECTION": "K",
		"ENDPOINT_DATA_K_AUTHORIZATIONTYPE": "Kubeconfig", "ENDPOINT_AUTH_PARAMETER_K_KUBECONFIG": string(kubeconfig),
		"ENDPOINT_URL_K": e.Config.Host, "INPUT_STAGE": "Blue_45", "INPUT_NAMESPACE": ns, "INPUT_TIMEOUT": "60",
		"INPUT_ANALYSIS": "true", "INPUT_SOURCE": "loadtest", "INPUT_ANALYSISGATEWAY": failing, "INPUT_RATE": "1000",
		"INPUT_CONCURRENCY": "20", "INPUT_WINDOW": "1m", "INPUT_INTERVAL": "2s", "INPUT_LATENCYSLO": "5s", "INPUT_ONDEGRADED": "hold"}
	code, out = runFrontEnd(t, []string{"azure-devops-task"}, az)
	if code != ExitFailed || !strings.Contains(out, "##vso[task.setvariable variable=decision;isoutput=true;issecret=false;]degraded") ||
		!strings.Contains(out, "##vso[task.complete result=Failed;]Blue_45 holds, but blue is degraded: errors: blue 30.") {
		t.Errorf("task: exit %d\n%s", code, out)
	}
	_, path, _ := strings.Cut(out, "##vso[task.addattachment type=Distributedtask.Core.Summary;name=MLCanary Blue_45;]")
	path, _, _ = strings.Cut(path, "\n")
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the summary attachment: %v\n%s", err, out)
	}
	for _, want := range []string{"### mlcanary analysis: ❌ blue is degraded", "> **Failed:** traffic is left as Blue_45 put it."} {
		if !strings.Contains(string(md), want) {
			t.Errorf("task summary lacks %q:\n%s", want, md)
		}
	}
	if stage, w := liveSplit(t, e.Kubeconfig(t), ns); stage != "Blue_45" || w != (summary.Weights{Green: 55, Blue: 45}) {
		t.Errorf("the cluster is at %s %+v, want Blue_45 held", stage, w)
	}
}

// TestStageAnalysisBadInput: --analysis on a stage that does not leave both versions serving, an
// analysis input without --analysis, and an analysis input analyze refuses are each one line naming
// the stage's input (exit 2), before anything is sent.
func TestStageAnalysisBadInput(t *testing.T) {
	for _, c := range []struct {
		args  []string
		input string
	}{
		{[]string{"Blue_0", "--image", "m:1", "--analysis", "--prometheus-url", "http://prom:9090"}, "analysis"},
		{[]string{"Green_100", "--analysis", "--prometheus-url", "http://prom:9090"}, "analysis"},
		{[]string{"Rollback", "--analysis", "--prometheus-url", "http://prom:9090"}, "analysis"},
		{[]string{"Blue_50", "--prometheus-url", "http://alice:hunter2@prom:9090"}, "prometheus-url"},
		{[]string{"Blue_50", "--on-degraded", "hold"}, "on-degraded"},
		{[]string{"Blue_50", "--analysis-dry-run"}, "analysis-dry-run"},
		{[]string{"Blue_50", "--analysis"}, "prometheus-url"},
		{[]string{"Blue_50", "--analysis", "--source", "loadtest"}, "analysis-gateway"},
		{[]string{"Blue_50", "--analysis", "--source", "loadtest", "--analysis-gateway", "http://alice:hunter2@20.1.2.3"}, "analysis-gateway"},
		{[]string{"Blue_50", "--analysis", "--prometheus-url", "http://prom:9090", "--on-degraded", "abort"}, "on-degraded"},
		{[]string{"Blue_50", "--analysis", "--prometheus-url", "http://prom:9090", "--on-undecided", "retry"}, "on-undecided"},
		{[]string{"Blue_50", "--analysis", "--prometheus-url", "http://prom:9090", "--window", "30s"}, "window"},
		{[]string{"Shadow_10", "--analysis", "--prometheus-url", "http://prom:9090", "--window", "30s"}, "window"}, // Shadow_N may be gated
		{[]string{"Blue_100", "--analysis", "--prometheus-url", "http://prom:9090", "--confidence", "1"}, "confidence"},
	} {
		args := append([]string{"stage"}, c.args...)
		code, _, stderr := runCLI(t, closedURL(t), args...)
		if code != ExitInvalid || !oneInputLine.MatchString(stderr) || !strings.HasPrefix(stderr, "mlcanary: invalid "+c.input+" ") {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("%v: the password is printed: %q", c.args, stderr)
		}
	}
}
