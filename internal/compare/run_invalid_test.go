package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// routed puts two handlers behind the test gateway's header routes (x-api-version: green|blue on
// path) and returns the gateway's URL.
func routed(t *testing.T, green, blue http.Handler, path string) string {
	t.Helper()
	g, b := httptest.NewServer(green), httptest.NewServer(blue)
	t.Cleanup(g.Close)
	t.Cleanup(b.Close)
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{
		Backends: map[string]string{"green": g.URL, "blue": b.URL},
		Routes: []summary.HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: path},
			{Version: "green", Header: "x-api-version", Value: "green", Path: path}},
	}))
	t.Cleanup(gw.Close)
	return gw.URL
}

// answers is a handler answering body to every request.
func answers(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) })
}

// TestLargeAnswers (found by the #11 break-it review, C7): a valid JSON answer above the old 1 MiB
// (a batch of 100 embeddings of 1536 floats, 1.8 MB) is compared; one above MaxAnswerBytes is
// counted as too large, never as non-JSON.
func TestLargeAnswers(t *testing.T) {
	t.Parallel()
	batch := "[" + strings.Repeat("0.123456789,", 1536*100) + "0]"
	r := run(t, grid(5), options(routed(t, answers(batch), answers(batch), "/score")))
	if r.Compared != 5 || r.Agreed != 5 || len(r.Green.Invalid) != 0 {
		t.Errorf("identical %d-byte JSON answers: %d compared, %d agreed, green invalid %v (%s)", len(batch), r.Compared, r.Agreed, r.Green.Invalid, r.Reason)
	}
	huge := "[" + strings.Repeat("0.123456789,", MaxAnswerBytes/12+1) + "0]"
	r = run(t, grid(3), options(routed(t, answers(`[1]`), answers(huge), "/score")))
	if r.Blue.Invalid[InvalidTooLarge] != 3 || r.Blue.Invalid[InvalidJSON] != 0 || r.Agreed != 0 ||
		len(r.Divergent) == 0 || r.Divergent[0].Difference != "blue's answer is invalid: larger than 16 MiB" {
		t.Errorf("a %d-byte answer: blue invalid %v, divergent %+v", len(huge), r.Blue.Invalid, r.Divergent)
	}
}

// TestExactIntegersThroughTheGateway (found by the #11 break-it review, C3): under an exact
// comparison, int64 buckets 2^53 and 2^53+1 disagree on every request.
func TestExactIntegersThroughTheGateway(t *testing.T) {
	t.Parallel()
	o := options(routed(t, answers(`{"label":"a","bucket":9007199254740992}`), answers(`{"label":"a","bucket":9007199254740993}`), "/score"))
	o.Tolerance = Tolerance{}
	r := run(t, grid(700), o)
	if r.Agreed != 0 || r.Compared != 700 || r.Verdict != analysis.Degraded {
		t.Errorf("bucket 2^53 vs 2^53+1, exactly: %d of %d agreed (%s)", r.Agreed, r.Compared, r.Verdict)
	}
}

// TestFieldNoAnswerHas (found by the #11 break-it review, C5): a --field typo names the field in the
// reason (and the report counts it), instead of blaming green's health.
func TestFieldNoAnswerHas(t *testing.T) {
	t.Parallel()
	m := scoringmock.Options{Model: model(0.5, 0.5123, 0)}
	o := options(gateway(t, m, m))
	for _, f := range []string{"label", "lable"} {
		p, err := ParsePath(f)
		if err != nil {
			t.Fatal(err)
		}
		o.Fields = append(o.Fields, p)
	}
	r := run(t, grid(100), o)
	if r.Verdict == analysis.Agrees || r.Compared != 0 {
		t.Fatalf("a field no answer has: %s, %d compared", r.Verdict, r.Compared)
	}
	want := `no request was compared: 100 of green's answers lack the --field "lable"`
	if !strings.HasPrefix(r.Reason, want) || r.Green.MissingFields["lable"] != 100 || r.Blue.MissingFields["lable"] != 100 {
		t.Errorf("reason %q (want it to start %q), missing green %v blue %v", r.Reason, want, r.Green.MissingFields, r.Blue.MissingFields)
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil || !strings.Contains(js.String(), `"missingFields": {`) {
		t.Errorf("-o json does not count the missing field: %v", err)
	}
}

// TestSecretHeadersNotInReport: a line's Authorization header never reaches the report (JSON or
// Markdown) nor the failure, when blue refuses the request or drops the connection (kept from the
// #11 break-it review).
func TestSecretHeadersNotInReport(t *testing.T) {
	t.Parallel()
	blue := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "drop") {
			c, _, _ := w.(http.Hijacker).Hijack()
			_ = c.Close()
			return
		}
		http.Error(w, "forbidden", http.StatusForbidden)
	})
	gw := routed(t, answers(`{"score":1}`), blue, "/")
	var lines strings.Builder
	for i := range 20 {
		path := "/score"
		if i%2 == 0 {
			path = "/score/drop"
		}
		fmt.Fprintf(&lines, `{"body": [%d], "path": %q, "headers": {"Authorization": "Bearer s3cr3t-t0ken"}}`+"\n", i, path)
	}
	r := run(t, lines.String(), options(gw))
	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	all := js.String() + Markdown(r) + r.Reason
	if err := r.Failure(); err != nil {
		all += err.Error()
	}
	if strings.Contains(all, "s3cr3t") {
		t.Errorf("the report holds a request header's secret")
	}
	if r.Blue.Invalid[InvalidStatus] != 20 || r.Agreed != 0 { // the gateway answers a dropped connection with 502
		t.Errorf("blue invalid %v, %d agreed; want 20 HTTP errors", r.Blue.Invalid, r.Agreed)
	}
	var back map[string]any
	if json.Unmarshal(js.Bytes(), &back) != nil {
		t.Errorf("-o json is not JSON")
	}
}

// TestEchoedHeaderSecretsNotInReport (second #11 break-it review, D3; B7's kind): blue's auth layer
// answers 401 echoing what it refused ("token rejected: Bearer …"), and green echoes the line's API
// key and cookie in its answer; none of what a line sent as a header value — the Authorization
// header whole or its token alone, an API key, a cookie's value — reaches the most divergent
// requests (Markdown or -o json), the reason or the failure, while the rest of each answer, and a
// line's own routing header value (never sent), are shown.
func TestEchoedHeaderSecretsNotInReport(t *testing.T) {
	t.Parallel()
	blue := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, `{"error":"invalid_token","detail":"token rejected: %s","token":%q}`, r.Header.Get("Authorization"),
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	})
	green := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"score":1,"version":"green","key":%q,"session":%q}`, r.Header.Get("x-api-key"),
			strings.TrimPrefix(r.Header.Get("Cookie"), "session="))
	})
	gw := routed(t, green, blue, "/score")
	var lines strings.Builder
	for i := range 5 {
		fmt.Fprintf(&lines, `{"body": [%d], "headers": {"Authorization": "Bearer eyJs3cr3t-t0ken", "x-api-key": "k3y-%d-value", `+
			`"Cookie": "session=c00kie-%d", "x-api-version": "green"}}`+"\n", i, i, i)
	}
	r := run(t, lines.String(), options(gw))
	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	all := js.String() + Markdown(r) + r.Reason
	if err := r.Failure(); err != nil {
		all += err.Error()
	}
	if r.Blue.Invalid[InvalidStatus] != 5 || len(r.Divergent) != 5 {
		t.Fatalf("setup: blue invalid %v, %d divergent", r.Blue.Invalid, len(r.Divergent))
	}
	for _, s := range []string{"s3cr3t", "k3y-", "c00kie"} {
		if strings.Contains(all, s) {
			t.Errorf("the report shows %q, which the requests sent as a header:\n%s", s, Markdown(r))
		}
	}
	if d := r.Divergent[0]; !strings.Contains(d.Blue, "HTTP 401: {\"error\":\"invalid_token\",\"detail\":\"token rejected: (secret, not shown)\"") ||
		!strings.Contains(d.Green, `"version":"green"`) {
		t.Errorf("the answers are not shown but for the secrets: green %s, blue %s", d.Green, d.Blue)
	}
}

// TestOneVersionFails: blue alone times out or answers 500: every request disagrees, counted by kind
// on blue only; a line's own x-api-version header cannot steer its copy to the other version (the
// routing header is set over it). Kept from the #11 break-it review.
func TestOneVersionFails(t *testing.T) {
	t.Parallel()
	blue := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "slow") {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	gw := routed(t, answers(`{"score":1}`), blue, "/")
	var lines strings.Builder
	for i := range 10 {
		path := "/score"
		if i%2 == 0 {
			path = "/score/slow"
		}
		fmt.Fprintf(&lines, `{"body": [%d], "path": %q, "headers": {"X-Api-Version": "green"}}`+"\n", i, path)
	}
	o := options(gw)
	o.Timeout = 1500 * time.Millisecond // half the slow answer's 3 s, and far above green's on a loaded machine (300 ms timed green out under load)
	r := run(t, lines.String(), o)
	if r.Compared != 10 || r.Agreed != 0 || r.Blue.Invalid[InvalidTimeout] != 5 || r.Blue.Invalid[InvalidStatus] != 5 || len(r.Green.Invalid) != 0 {
		t.Errorf("%d compared, %d agreed, blue invalid %v, green invalid %v", r.Compared, r.Agreed, r.Blue.Invalid, r.Green.Invalid)
	}
}

// TestGreenDownIsNotAgreement: green answers every request 503 and blue is healthy: nothing is
// compared, the verdict is undecided (exit 1) and says green's answers were HTTP errors. Kept from
// the #11 break-it review.
func TestGreenDownIsNotAgreement(t *testing.T) {
	t.Parallel()
	down := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	gw := routed(t, down, scoringmock.Handler(scoringmock.Options{Model: model(0.5, 0.5123, 0)}), "/score")
	r := run(t, grid(50), options(gw))
	if r.Verdict != analysis.Undecided || r.Failure() == nil || r.Compared != 0 ||
		r.Reason != "no request was compared: green answered none of them validly (50 HTTP error)" {
		t.Errorf("%s (%d compared): %s", r.Verdict, r.Compared, r.Reason)
	}
}

// TestTricklingAnswerTimesOut: blue sends its headers and then one byte every 50 ms
// forever (a streaming text model): each request ends at --request-timeout as a timeout on blue, the
// run ends, and a pretty-printed (multi-line, with pipes) green answer stays on one Markdown table
// row. Kept from the second #11 break-it review.
func TestTricklingAnswerTimesOut(t *testing.T) {
	t.Parallel()
	blue := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := io.WriteString(w, " "); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	gw := routed(t, answers("{\n  \"label\": \"a|b\",\n  \"score\": 1\n}\n"), blue, "/score")
	o := options(gw)
	o.Timeout = 500 * time.Millisecond
	start := time.Now()
	r := run(t, grid(6), o)
	if r.Blue.Invalid[InvalidTimeout] != 6 || time.Since(start) > 10*time.Second {
		t.Errorf("blue invalid %v after %s", r.Blue.Invalid, time.Since(start))
	}
	for _, line := range strings.Split(Markdown(r), "\n") {
		if strings.HasPrefix(line, "| 1 |") && strings.Count(line, "|")-strings.Count(line, `\|`) != 5 {
			t.Errorf("the divergent row is broken: %q", line)
		}
	}
}
