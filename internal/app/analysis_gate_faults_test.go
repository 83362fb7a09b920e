package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// istioBackfill is Istio's reporter="destination" series of model-<version> in ns, every 30 s from
// from to to, each version's per-second rates of 200s and 500s given before and after the change at
// at (a counter: its value is the requests so far). Every request is answered within 1 s.
func istioBackfill(ns string, from, at, to time.Time, before, after map[string][2]float64) string {
	var b strings.Builder
	for _, v := range []string{"blue", "green"} {
		labels := fmt.Sprintf(`destination_service_name="model-svc-%s",destination_service_namespace=%q,destination_workload="model-%s",destination_workload_namespace=%q,reporter="destination",response_flags="-"`,
			v, ns, v, ns)
		value := func(ts time.Time, i int) float64 {
			if ts.Before(at) {
				return float64(int64(before[v][i] * ts.Sub(from).Seconds()))
			}
			return float64(int64(before[v][i]*at.Sub(from).Seconds() + after[v][i]*ts.Sub(at).Seconds()))
		}
		for _, s := range []struct {
			series string
			value  func(time.Time) float64
		}{
			{`istio_requests_total{` + labels + `,response_code="200"}`, func(ts time.Time) float64 { return value(ts, 0) }},
			{`istio_requests_total{` + labels + `,response_code="500"}`, func(ts time.Time) float64 { return value(ts, 1) }},
			{`istio_request_duration_milliseconds_bucket{` + labels + `,le="1000"}`, func(ts time.Time) float64 { return value(ts, 0) + value(ts, 1) }},
			{`istio_request_duration_milliseconds_bucket{` + labels + `,le="+Inf"}`, func(ts time.Time) float64 { return value(ts, 0) + value(ts, 1) }},
		} {
			for ts := from; !ts.After(to); ts = ts.Add(30 * time.Second) {
				fmt.Fprintf(&b, "%s %g %d\n", s.series, s.value(ts), ts.Unix())
			}
		}
	}
	return b.String() + "# EOF\n"
}

// TestBlue100BakeJudgesBlueAgainstGreenBeforeTheChange: after Blue_100 green serves no default
// traffic, so the bake after full promotion (`stage Blue_100 --analysis`, while green still exists)
// judges blue in the window after the change against green's own traffic in the equally long window
// just before it, and says so in the evidence. Blue_30 before (green 28/s, blue 12/s, both 1% of
// 500s); after Blue_100 blue takes 40/s, green's counters stop. A blue failing 6% of all requests is
// degraded and rolled back (before the fix every bake ended undecided: "N more requests would decide
// it", which no traffic could); a blue still at 1% agrees and the stage holds.
func TestBlue100BakeJudgesBlueAgainstGreenBeforeTheChange(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs a real Prometheus and the API server")
	}
	e := shared.Env(t)
	e.StartController(t)
	for _, c := range []struct {
		name     string
		blue     [2]float64
		window   string
		degraded bool
	}{
		{"blue fails 6%", [2]float64{37.6, 2.4}, "3m", true},
		{"blue fails 1%", [2]float64{39.6, 0.4}, "10m", false},
	} {
		ns := "gate-bake-" + strconv.FormatBool(c.degraded)
		stageBlue30(t, e, ns)
		now := time.Now().Truncate(30 * time.Second)
		prom := promtest.Run(t, promtest.Options{ScrapeInterval: 30 * time.Second, Backfill: istioBackfill(ns, now.Add(-30*time.Minute), now, now.Add(12*time.Minute),
			map[string][2]float64{"green": {27.72, 0.28}, "blue": {11.88, 0.12}},
			map[string][2]float64{"green": {0, 0}, "blue": c.blue})})
		fastClock(t)
		kc := e.Kubeconfig(t)
		code, out, errs := runCLI(t, kc, "stage", "Blue_100", "-n", ns, "--timeout", "60", "--analysis", "--prometheus-url", prom.URL,
			"--window", c.window, "--interval", "30s")
		last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
		t.Logf("%s: exit %d: %s", c.name, code, last)
		if !strings.Contains(out, "green judged on its own traffic in the equally long window before the change") {
			t.Errorf("%s: the report does not say where green was judged:\n%s", c.name, out)
		}
		stage, w := liveSplit(t, kc, ns)
		switch {
		case c.degraded && (code != ExitFailed || !strings.Contains(last, "blue is degraded") || !strings.Contains(last, "rolled back automatically")):
			t.Errorf("%s: exit %d, %q (want degraded, rolled back)\n%s", c.name, code, last, out)
		case c.degraded && (stage != "Rollback" || w != (summary.Weights{Green: 100})):
			t.Errorf("%s: the cluster is at %s %+v: blue keeps 100%% of the traffic with 6%% of errors", c.name, stage, w)
		case !c.degraded && (code != ExitOK || !strings.Contains(out, "agrees")):
			t.Errorf("%s: exit %d, %q (want agrees)\n%s", c.name, code, errs, out)
		case !c.degraded && (stage != "Blue_100" || w != (summary.Weights{Blue: 100})):
			t.Errorf("%s: the cluster is at %s %+v, want Blue_100", c.name, stage, w)
		}
	}
}

// growingPrometheus answers each query like Prometheus for Istio's series that grow at rates[v]
// requests per second (of which fail[v] are 500s), a sample every 15 s up to the query's time,
// answered within 1s; nothing answered for lack of an upstream. first runs once, at the first query.
func growingPrometheus(t *testing.T, rates, fail map[string]float64, first func()) *httptest.Server {
	var once sync.Once
	t0 := float64(time.Now().Add(-time.Hour).Unix())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(first)
		_ = r.ParseForm()
		q := r.Form.Get("query")
		at, err := strconv.ParseFloat(r.Form.Get("time"), 64)
		if err != nil {
			at = float64(time.Now().Unix())
		}
		series := func(labels map[string]string, rate float64) map[string]any {
			var values [][2]any
			for sec := 1200.0; sec >= 0; sec -= 15 {
				values = append(values, [2]any{at - sec, strconv.FormatFloat(math.Floor(rate*(at-sec-t0)), 'f', -1, 64)})
			}
			return map[string]any{"metric": labels, "values": values}
		}
		result := []map[string]any{}
		for _, v := range []string{"blue", "green"} {
			if _, ok := rates[v]; !ok {
				continue // no series at all: its pods have no sidecar
			}
			switch {
			case !strings.Contains(q, `destination_workload="model-`+v+`"`):
			case strings.HasPrefix(q, "istio_requests_total"):
				result = append(result, series(map[string]string{"response_code": "200"}, rates[v]-fail[v]), series(map[string]string{"response_code": "500"}, fail[v]))
			case strings.HasPrefix(q, "istio_request_duration_milliseconds_bucket"):
				result = append(result, series(map[string]string{"le": "1000"}, rates[v]), series(map[string]string{"le": "+Inf"}, rates[v]))
			}
		}
		body, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}})
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestFailedAutomaticRollbackLeavesTrafficOnTheReadyVersion: the automatic Rollback after a degraded
// blue cannot be performed because green's Deployment was deleted while blue was judged (a cleanup
// job, a person). The run fails in one line naming the verdict, the Rollback's refusal and what was
// done (held: that line names both), and leaves traffic on something that works: all of it on blue,
// the only ready version (degraded, but answering 94%), with a warning — not half of it on a green
// that no longer exists (503s), as before the fix.
func TestFailedAutomaticRollbackLeavesTrafficOnTheReadyVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the API server")
	}
	e := shared.Env(t)
	e.StartController(t)
	const ns = "gate-rbfail"
	stageBlue30(t, e, ns)
	prom := growingPrometheus(t, map[string]float64{"blue": 200, "green": 200}, map[string]float64{"blue": 12, "green": 2}, func() {
		if err := e.Dynamic.Resource(kube.Deployments).Namespace(ns).Delete(context.Background(), "model-green", metav1.DeleteOptions{}); err != nil {
			t.Errorf("deleting green: %v", err)
		}
	})
	fastClock(t)
	kc := e.Kubeconfig(t)
	code, out, errs := runCLI(t, kc, "stage", "Blue_50", "-n", ns, "--timeout", "20", "--analysis", "--prometheus-url", prom.URL,
		"--window", "2m", "--interval", "30s")
	last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
	t.Logf("exit %d: %s", code, last)
	if code != ExitFailed || strings.Count(errs, "mlcanary: ") != 1 || !strings.Contains(last, "blue is degraded: errors") ||
		!strings.Contains(last, "the automatic Rollback failed: Rollback: green (Deployment gate-rbfail/model-green) must exist and be ready, but it does not exist") ||
		!strings.Contains(last, "all traffic was sent to blue, the only ready version") || !strings.Contains(errs, "analysis: WARNING: green is not ready") {
		t.Errorf("exit %d, stderr %q\n%s", code, errs, out)
	}
	stage, w := liveSplit(t, kc, ns)
	t.Logf("the cluster is at %s %+v", stage, w)
	if stage != "Blue_100" || w != (summary.Weights{Blue: 100}) {
		t.Errorf("the cluster is at %s %+v: %d%% of the traffic goes to a green that no longer exists (503s)", stage, w, w.Green)
	}
}

// TestSignalDuringAnalysisLeavesTheStagesSplit (a regression test from the #10 break-it review): SIGTERM (a cancelled pipeline job) and
// SIGINT while the gate waits between looks: exit 1, the lock released at once, traffic left as the
// stage put it (never half a Rollback), and the last line one sentence naming the stage.
func TestSignalDuringAnalysisLeavesTheStagesSplit(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the API server")
	}
	e := shared.Env(t)
	e.StartController(t)
	const ns = "gate-signal"
	stageBlue30(t, e, ns)
	idle := idlePrometheus(t)
	var asked atomic.Int64
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		idle.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(prom.Close)
	admin := e.Kubeconfig(t)
	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		stage := []string{"Blue_50", "Blue_60"}[i]
		before := asked.Load()
		child, out := startChild(t, admin, "cancelled", "stage", stage, "-n", ns, "--timeout=60", "--analysis", "--prometheus-url", prom.URL,
			"--window", "10m", "--interval", "2s")
		deadline := time.Now().Add(60 * time.Second)
		for asked.Load() < before+12 && time.Now().Before(deadline) { // two looks: the gate is waiting
			time.Sleep(100 * time.Millisecond)
		}
		check(t, child.Process.Signal(sig))
		err := child.Wait()
		var exit *exec.ExitError
		text := out.String()
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		t.Logf("%s: %v: %s", sig, err, lines[len(lines)-1])
		if !errors.As(err, &exit) || exit.ExitCode() != ExitFailed || strings.Count(text, "mlcanary: ") != 1 ||
			!strings.HasPrefix(lines[len(lines)-1], "mlcanary: "+stage) {
			t.Errorf("%s: %v; want exit 1 and one line naming %s\n%s", sig, err, stage, text)
		}
		if h := leaseHolder(t, e, ns); h != "" {
			t.Errorf("after %s the lock is still held by %q", sig, h)
		}
		want := map[string]summary.Weights{"Blue_50": {Green: 50, Blue: 50}, "Blue_60": {Green: 40, Blue: 60}}[stage]
		if got, w := liveSplit(t, admin, ns); got != stage || w != want {
			t.Errorf("after %s the cluster is at %s %+v, want %s", sig, got, w, stage)
		}
	}
}

// TestBlueWithoutSeriesIsAConfigurationFault: blue's pods have no Istio sidecar (its template says
// sidecar.istio.io/inject: "false", or the namespace lost its injection label before Blue_0), green's
// have one and answer 200 requests per second. At Blue_50, with `--on-undecided pass` (a team that
// wants the gate only to catch a degraded blue), a window in which green served 24000 requests and
// blue has no series at all is a configuration fault, one sentence naming the selector that found
// nothing: exit 1, never a pass (before the fix it passed as "too little traffic"). Green at 0.1
// requests per second (12 in the window, about 12 expected for blue) is too little traffic to tell:
// undecided, and `pass` passes.
func TestBlueWithoutSeriesIsAConfigurationFault(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the API server")
	}
	e := shared.Env(t)
	e.StartController(t)
	for _, c := range []struct {
		name  string
		green float64
		fault bool
	}{{"green at 200/s", 200, true}, {"green at 0.1/s", 0.1, false}} {
		ns := "gate-nosidecar-" + strconv.FormatBool(c.fault)
		stageBlue30(t, e, ns)
		prom := growingPrometheus(t, map[string]float64{"green": c.green}, map[string]float64{"green": c.green / 100}, func() {})
		fastClock(t)
		kc := e.Kubeconfig(t)
		code, out, errs := runCLI(t, kc, "stage", "Blue_50", "-n", ns, "--timeout", "20", "--analysis", "--prometheus-url", prom.URL,
			"--window", "2m", "--interval", "30s", "--on-undecided", "pass")
		last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
		t.Logf("%s: exit %d: %s", c.name, code, last)
		switch {
		case c.fault && (code != ExitFailed || strings.Count(errs, "mlcanary: ") != 1 || !strings.Contains(last, "configuration fault") ||
			!strings.Contains(last, `destination_workload="model-blue"}`) || !strings.Contains(last, "at green 50%, blue 50%")):
			t.Errorf("%s: exit %d, want one line naming blue's selector as a configuration fault:\n%s\n%s", c.name, code, errs, out)
		case !c.fault && code != ExitOK:
			t.Errorf("%s: exit %d: too little traffic is undecided, which --on-undecided pass passes:\n%s\n%s", c.name, code, errs, out)
		}
	}
}

// TestAnalysisTaskValuesAsTyped (a regression test from the #10 break-it review): values as people type them in a classic pipeline's text boxes or
// YAML (a percent sign, a bare number of minutes or milliseconds, a capital): each exits 2 with one
// line naming the task's input, or is taken as meant — never run with another meaning.
func TestAnalysisTaskValuesAsTyped(t *testing.T) {
	kc := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\n" +
		"users: [{name: u, user: {token: tok-analysis}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
	for _, c := range []struct{ input, value string }{
		{"maxErrorIncrease", "1%"}, {"confidence", "99%"}, {"confidence", "99"}, {"window", "10"}, {"latencySlo", "1000"},
		{"interval", "30"}, {"prometheusUrl", "prometheus.istio-system:9090"},
	} {
		dir := t.TempDir()
		az := map[string]string{"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": dir, "INPUT_KUBERNETESSERVICECONNECTION": "K",
			"ENDPOINT_DATA_K_AUTHORIZATIONTYPE": "Kubeconfig", "ENDPOINT_AUTH_PARAMETER_K_KUBECONFIG": kc, "INPUT_STAGE": "Blue_50",
			"INPUT_ANALYSIS": "true", "INPUT_PROMETHEUSURL": "http://prometheus:9090"}
		az["INPUT_"+strings.ToUpper(c.input)] = c.value
		code, out := runFrontEnd(t, []string{"azure-devops-task"}, az)
		if code != ExitInvalid || !strings.Contains(out, "invalid "+c.input+" ") {
			t.Errorf("%s %q: exit %d\n%s", c.input, c.value, code, out)
		}
	}
}
