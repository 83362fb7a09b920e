package gatewaysim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

var routes = []summary.HeaderRoute{
	{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
	{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"},
}

func start(t *testing.T, w summary.Weights) string {
	t.Helper()
	green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model A"}))
	blue := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model B"}))
	t.Cleanup(green.Close)
	t.Cleanup(blue.Close)
	gw := httptest.NewServer(New(Config{
		Backends: map[string]string{"green": green.URL, "blue": blue.URL}, Weights: w, Routes: routes, Seed: 1,
	}))
	t.Cleanup(gw.Close)
	return gw.URL
}

// count sends n GET /score requests with the routing header set to version ("" for none).
func count(t *testing.T, url, version string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/score", nil)
		if err != nil {
			t.Fatal(err)
		}
		if version != "" {
			req.Header.Set("x-api-version", version)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		got[string(b)]++
	}
	return got
}

func TestProxy(t *testing.T) {
	t.Parallel()
	const a, b = "\"New Model A\"\n", "\"New Model B\"\n"
	tests := []struct {
		name    string
		weights summary.Weights
		version string
		want    map[string]int
	}{
		{"header blue", summary.Weights{Green: 100}, "blue", map[string]int{b: 40}},
		{"header green", summary.Weights{Blue: 100}, "green", map[string]int{a: 40}},
		{"unknown header value takes the default", summary.Weights{Green: 100}, "purple", map[string]int{a: 40}},
		{"all green", summary.Weights{Green: 100}, "", map[string]int{a: 40}},
		{"all blue", summary.Weights{Blue: 100}, "", map[string]int{b: 40}},
		{"no weights", summary.Weights{}, "", map[string]int{"no healthy upstream\n": 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := count(t, start(t, tc.weights), tc.version, 40)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestProxySplits checks that a 90/10 split is roughly 90/10 (the 99.9% binomial range for 400
// picks is about 336..384 green; with the fixed seed the count is always the same).
func TestProxySplits(t *testing.T) {
	t.Parallel()
	got := count(t, start(t, summary.Weights{Green: 90, Blue: 10}), "", 400)
	if g := got["\"New Model A\"\n"]; g < 336 || g > 384 || got["\"New Model B\"\n"] != 400-g {
		t.Errorf("90/10 split of 400 requests: %v", got)
	}
}
