package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// TestVerifyCountsCopiesFromPrometheus: verify after Shadow_10 counts the mirror's copies from
// Istio's metrics in a real Prometheus (scraping the simulated gateway's Istio metrics every
// second: the gateway reports each client request, only blue's sidecar reports a copy, as in a
// mesh). A gateway mirroring 10% passes with blue's pods answering about 10% as many requests as
// green's; one mirroring nothing fails with one sentence saying nothing is mirrored to blue — also
// when blue's pods never answered a request before, so Istio has no series for them.
func TestVerifyCountsCopiesFromPrometheus(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mirror   int
		blueSeen bool // blue answered requests before (its header route), so its series exist
		passed   bool
		want     string
	}{
		{"mirrors 10%", 10, true, true, "% of verify's requests"},
		{"mirrors nothing", 0, true, false, "so nothing is mirrored to blue; want 10% copies"},
		{"mirrors nothing to a blue never asked", 0, false, false, "so nothing is mirrored to blue; want 10% copies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			rig := startShadowRig(t, tc.mirror, 0, 0, time.Second)
			p, gw, prom, routes := rig.p, rig.gw, rig.prom, rig.routes

			o := verify.Options{Gateway: gw.URL, Requests: 600, RouteRequests: 200, Concurrency: 8, Timeout: 5 * time.Second,
				Confidence: 0.99, Tolerance: 0.05, MaxErrorShare: 0.01, Answers: map[config.Version]string{}}
			// Both versions answered before the stage (Blue_0's checks): their series exist, and a
			// scrape has seen them before verify begins.
			warm := o
			warm.Requests = 100
			if !tc.blueSeen {
				warm.Answers[config.Blue] = "New Model B"
			}
			warmRoutes := routes
			if !tc.blueSeen {
				warmRoutes = routes[1:]
			}
			if _, err := verify.Verify(t.Context(), verify.Target{Weights: summary.Weights{Green: 100}, Routes: warmRoutes, Path: "/score"}, warm); err != nil {
				t.Fatal(err)
			}
			if err := prom.WaitScraped(t.Context(), rig.target, time.Now(), 30*time.Second); err != nil {
				t.Fatal(err)
			}

			in := NewInputs()
			in.PrometheusURL = prom.URL
			copies, err := Copies(in, c, Identity{})
			if err != nil || copies == nil {
				t.Fatalf("Copies: %v", err)
			}
			o.Copies = copies
			res := &summary.Result{Stage: "Shadow_10", Weights: summary.Weights{Green: 100}, Routes: routes, Mirror: 10}
			r, err := verify.Verify(t.Context(), verify.TargetFrom(res, "/score"), o)
			if err != nil {
				t.Fatal(err)
			}
			md := verify.Markdown(r)
			if r.Passed != tc.passed || !strings.Contains(md, tc.want) {
				t.Fatalf("Passed %v (want %v), problems %q; want %q in the report:\n%s", r.Passed, tc.passed, r.Problems, tc.want, md)
			}
			mc := r.MirrorCheck
			t.Logf("sent %d to the default route; Prometheus counted green %d, blue %d (%.1f%%); gateway copies %v",
				mc.Sent, mc.Counts.Green, mc.Counts.Blue, mc.Share, func() int64 { s, _ := p.Mirrored(); return s }())
			if mc.Counts.Source != istioprom.Redact(prom.URL) {
				t.Errorf("source %q", mc.Counts.Source)
			}
		})
	}
}
