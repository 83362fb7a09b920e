package analyze

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// queryError is what the Prometheus client returns for a backend answering code with body.
func queryError(t *testing.T, code int, body string) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, body, code) }))
	defer srv.Close()
	api, err := istioprom.NewClient(srv.URL, istioprom.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = api.Query(context.Background(), "up", time.Now())
	return &istioprom.QueryError{Endpoint: srv.URL, Query: "up", Err: err}
}

// TestGateAsksAgainAfterATransientQueryError (found by the #10 break-it review, B11): one 503 from a
// proxy in front of Prometheus, or a 429, at one look does not end the gate: the next look asks
// again and decides (once three looks have counts); the same error lasting until the deadline fails the gate with its message
// (never a pass); a refused query (403) still ends it at once.
func TestGateAsksAgainAfterATransientQueryError(t *testing.T) {
	equal := look{blue: counts(20000, 200, 200), green: counts(20000, 200, 200)}
	// Three looks with counts after the blip: the judge needs analysis.MinLooks of them.
	grows := []look{{blue: counts(20000, 200, 200), green: counts(20000, 200, 200)}, {blue: counts(40000, 400, 400), green: counts(40000, 400, 400)},
		{blue: counts(60000, 600, 600), green: counts(60000, 600, 600)}}
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway} {
		blip := queryError(t, code, "upstream connect error or disconnect/reset before headers")
		c := &clock{now: t0}
		o, err := Run(context.Background(), (&script{looks: append([]look{{err: blip}}, grows...)}).measure, settings(c, t0))
		if err != nil || o.Decision.Verdict != analysis.Agrees || o.Looks != 4 {
			t.Errorf("%d at the first look: %s after %d looks, err %v; want agrees at the fourth (the third with counts)", code, o.Decision.Verdict, o.Looks, err)
		}
		c = &clock{now: t0}
		o, err = Run(context.Background(), (&script{looks: []look{{err: blip}}}).measure, settings(c, t0))
		if err == nil || !strings.Contains(err.Error(), "upstream connect error") || o.Looks != 21 {
			t.Errorf("%d at every look: %d looks, err %v; want the error at the deadline (21 looks)", code, o.Looks, err)
		}
	}
	refused := queryError(t, http.StatusForbidden, "forbidden")
	var q *istioprom.QueryError
	if !errors.As(refused, &q) || q.Transient() {
		t.Fatalf("403 is transient: %v", refused)
	}
	c := &clock{now: t0}
	o, err := Run(context.Background(), (&script{looks: []look{{err: refused}, equal}}).measure, settings(c, t0))
	if err == nil || o.Looks != 1 {
		t.Errorf("403: %d looks, err %v; want it to end the gate at once", o.Looks, err)
	}
}
