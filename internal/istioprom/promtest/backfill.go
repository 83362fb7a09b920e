package promtest

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Traffic is one version's steady traffic per second: answered requests, and 5xx among them.
type Traffic struct{ OK, Failed float64 }

// IstioBackfill is OpenMetrics text for Options.Backfill: the Istio series (reporter="destination")
// of each version's Deployment model-<version> in namespace, counting traffic[version] per second
// from from to to, sampled every 30s, every request answered within 1s (histogram boundaries 1000
// and +Inf). Enough for a verdict without a scrape.
func IstioBackfill(namespace string, from, to time.Time, traffic map[string]Traffic) string {
	return IstioBackfillEvery(namespace, from, to, 30*time.Second, traffic)
}

// IstioBackfillEvery is IstioBackfill with samples every step: with samples up to a time after now,
// a short step makes the data look scraped that often, so a window that begins now has fresh
// counts a few seconds later.
func IstioBackfillEvery(namespace string, from, to time.Time, step time.Duration, traffic map[string]Traffic) string {
	var b strings.Builder
	for version, tr := range traffic {
		labels := fmt.Sprintf(`destination_service_name="model-svc-%s",destination_service_namespace=%q,destination_workload="model-%s",destination_workload_namespace=%q,reporter="destination",response_flags="-"`,
			version, namespace, version, namespace)
		for _, s := range []struct {
			series string
			rate   float64
		}{
			{`istio_requests_total{` + labels + `,response_code="200"}`, tr.OK},
			{`istio_requests_total{` + labels + `,response_code="500"}`, tr.Failed},
			{`istio_request_duration_milliseconds_bucket{` + labels + `,le="1000"}`, tr.OK + tr.Failed},
			{`istio_request_duration_milliseconds_bucket{` + labels + `,le="+Inf"}`, tr.OK + tr.Failed},
		} {
			for ts := from; !ts.After(to); ts = ts.Add(step) {
				fmt.Fprintf(&b, "%s %g %d\n", s.series, math.Floor(s.rate*ts.Sub(from).Seconds()), ts.Unix())
			}
		}
	}
	return b.String() + "# EOF\n"
}
