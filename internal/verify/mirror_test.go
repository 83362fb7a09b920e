package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// arrivals records when each request reached a version's pods: the count a sidecar keeps.
type arrivals struct {
	mu    sync.Mutex
	times []time.Time
}

func (a *arrivals) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.times = append(a.times, time.Now())
		a.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (a *arrivals) since(start time.Time) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int64
	for _, t := range a.times {
		if !t.Before(start) {
			n++
		}
	}
	return n
}

// TestVerifyCountsTheMirrorsCopies (issue #11: "verify after Shadow_N checks blue receives ≈N%
// copies while clients only ever see green's answers"; break-it S3): after Shadow_10, through the
// simulated gateway, verify counts what each version's pods answered while it sends requests to the
// default route alone. A gateway that mirrors 10% passes and the report shows the counts; one that
// mirrors nothing, or 40% instead of 10%, fails with one sentence about the mirror, although every
// client gets green's answer. Without a source of counts the report says the copies were not counted.
func TestVerifyCountsTheMirrorsCopies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		mirror   int
		counted  bool
		passed   bool
		problem  string
		reported string
	}{
		{"mirrors 10%", 10, true, true, "", "% of verify's requests"},
		{"mirrors nothing", 0, true, false, "so nothing is mirrored to blue; want 10% copies", "❌"},
		{"mirrors 40% instead of 10%", 40, true, false, "want 10% copies ±5 points", "❌"},
		{"no source of counts", 0, false, true, "", "were not counted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var greenPods, bluePods arrivals
			green := httptest.NewServer(greenPods.wrap(scoringmock.Handler(scoringmock.Options{Answer: "New Model A"})))
			blue := httptest.NewServer(bluePods.wrap(scoringmock.Handler(scoringmock.Options{Answer: "New Model B"})))
			p := gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": green.URL, "blue": blue.URL},
				Weights: summary.Weights{Green: 100}, Routes: documentedRoutes, Seed: 11, Mirror: tc.mirror})
			gw := httptest.NewServer(p)
			t.Cleanup(func() { gw.Close(); green.Close(); blue.Close() })
			o := defaults(gw.URL)
			o.Requests = 1000
			if tc.counted {
				o.Copies = CopiesFunc(func(_ context.Context, start, _ time.Time) (CopyCounts, error) {
					p.Mirrored() // the copies still in flight arrive first, as a scraped source waits for them
					return CopyCounts{Green: greenPods.since(start), Blue: bluePods.since(start), Source: "the test's sidecars"}, nil
				})
			}
			res := &summary.Result{Stage: "Shadow_10", Weights: summary.Weights{Green: 100}, Routes: documentedRoutes, Mirror: 10}
			r, err := Verify(t.Context(), TargetFrom(res, "/score"), o)
			if err != nil {
				t.Fatal(err)
			}
			md := Markdown(r)
			if r.Passed != tc.passed {
				t.Fatalf("Passed = %v, want %v; problems %q\n%s", r.Passed, tc.passed, r.Problems, md)
			}
			if tc.problem != "" && (len(r.Problems) != 1 || !strings.Contains(r.Problems[0], tc.problem) || strings.Contains(r.Problems[0], "\n")) {
				t.Errorf("problems %q, want one sentence containing %q", r.Problems, tc.problem)
			}
			if !strings.Contains(md, "**Mirror**: Blue also gets a copy of 10%") || !strings.Contains(md, tc.reported) {
				t.Errorf("the report's mirror line lacks %q:\n%s", tc.reported, md)
			}
			if mc := r.MirrorCheck; tc.counted && (mc == nil || !mc.Measured || mc.Sent != 1000) {
				t.Errorf("mirror check %+v, want 1000 requests measured", mc)
			}
		})
	}
}
