package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// scoringGateway routes POST /score by x-api-version like a scoring API behind Istio's header
// routes (KServe, MLflow, Triton, FastAPI): a GET is answered 405, another path or no version 404;
// blue fails every scoring request with 500, green answers it.
func scoringGateway(t *testing.T) *httptest.Server {
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.Header.Get("x-api-version")
		switch {
		case r.URL.Path != "/score" || (v != "blue" && v != "green"):
			http.NotFound(w, r)
		case r.Method != http.MethodPost:
			w.Header().Set("Allow", "POST")
			http.Error(w, `{"detail":"Method Not Allowed"}`, http.StatusMethodNotAllowed)
		case r.Header.Get("Content-Type") != "application/json":
			http.Error(w, `{"detail":"Unsupported Media Type"}`, http.StatusUnsupportedMediaType)
		case v == "blue":
			http.Error(w, `{"error":"model failed to load weights"}`, http.StatusInternalServerError)
		default:
			_, _ = w.Write([]byte(`{"label":"cat","score":0.93}`))
		}
	}))
	t.Cleanup(gw.Close)
	return gw
}

// TestPairedLoadSendsTheModelsRequest: the paired load (--source loadtest) sends the model's real
// scoring request (--method POST --data JSON, as application/json), so a blue that fails every one is
// degraded; without them the bodiless GETs are answered 405 by both versions, which is the server's
// answer, not the model's: the analysis fails in one sentence naming the 405 — never "agrees".
func TestPairedLoadSendsTheModelsRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: sends paired load for seconds")
	}
	gw := scoringGateway(t)
	args := []string{"analyze", "--source", "loadtest", "--gateway", gw.URL, "--uri-prefix", "/score", "--rate", "200", "-c", "10",
		"--window", "1m", "--interval", "2s", "--latency-slo", "5s"}
	code, out, errs := runCLIEnv(nil, append(args, "--method", "post", "--data", `{"instances":[[1,2]]}`)...)
	if code != ExitFailed || !strings.Contains(errs, "blue is degraded") {
		t.Errorf("POST with the model's body, blue failing every request: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCLIEnv(nil, args...)
	t.Logf("GET: exit %d: %s", code, errs)
	if code != ExitFailed || strings.Contains(out, "agrees") || strings.Count(errs, "mlcanary: ") != 1 ||
		!strings.Contains(errs, "was a 4xx (405)") || !strings.Contains(errs, "not the model's") {
		t.Errorf("bodiless GETs answered 405 by both versions: exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = runCLIEnv(nil, append(args, "--method", "PUT")...)
	if code != ExitInvalid || !strings.Contains(errs, `invalid method "PUT"`) || !strings.Contains(errs, "GET or POST") {
		t.Errorf("--method PUT: exit %d: %s", code, errs)
	}
}

// TestPairedLoadNothingRoutedFails: a gateway that routes none of the paired load (a wrong gateway
// address, URI prefix or hosts: Istio answers 404 for every request) reached no model: the analysis
// fails in one sentence naming the 404 and what to check, exit 1, never "agrees".
func TestPairedLoadNothingRoutedFails(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: sends paired load for seconds")
	}
	gw := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(gw.Close)
	code, out, errs := runCLIEnv(nil, "analyze", "--source", "loadtest", "--gateway", gw.URL, "--rate", "200", "-c", "10",
		"--window", "1m", "--interval", "2s", "--latency-slo", "5s")
	t.Logf("exit %d: %s", code, errs)
	if code != ExitFailed || strings.Contains(out, "agrees") || !strings.Contains(errs, "was a 4xx (404)") ||
		!strings.Contains(errs, "URI prefix and hosts") {
		t.Errorf("every request answered 404: exit %d\n%s%s", code, out, errs)
	}
}
