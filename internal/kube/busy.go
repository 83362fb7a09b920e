package kube

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// noSilentRetry is a transport wrapper that stops client-go from retrying a 429 Too Many Requests
// on its own: client-go sleeps the Retry-After and retries up to 10 times before the caller sees
// anything, so a stage would stall for minutes printing nothing (API Priority and Fairness sheds
// load with 429 and Retry-After). It removes the Retry-After header from a 429 and moves it into
// the answer's Status (details.retryAfterSeconds), so the error says when to retry and the stage
// fails at once instead of silently.
type noSilentRetry struct{ next http.RoundTripper }

func (t noSilentRetry) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		return resp, err
	}
	after, _ := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close() // already read: nothing to report
	st := metav1.Status{}
	if json.Unmarshal(body, &st) != nil || st.Kind != "Status" {
		st = metav1.Status{Message: strings.TrimSpace(string(body))}
	}
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	st.Status, st.Code, st.Reason = metav1.StatusFailure, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests
	if st.Details == nil {
		st.Details = &metav1.StatusDetails{}
	}
	if st.Details.RetryAfterSeconds == 0 {
		st.Details.RetryAfterSeconds = int32(after)
	}
	out, _ := json.Marshal(st)
	resp.Header = resp.Header.Clone()
	resp.Header.Del("Retry-After")
	resp.Header.Set("Content-Type", "application/json")
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(out)), int64(len(out))
	return resp, nil
}
