package analyze

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
)

// realPrometheus backfills the OpenMetrics text om into a TSDB with promtool (`promtool tsdb
// create-blocks-from openmetrics`), starts Prometheus on that TSDB on a free loopback port, waits
// until it is ready, and returns its URL (internal/istioprom/promtest). The process is killed when the
// test ends.
//
// Backfilled blocks, not remote write and not a scrape: every sample is written with the timestamp
// the test chose before Prometheus starts, so a query at a fixed time sees exactly those samples —
// no scrape timing, no ingestion race, no out-of-order window — and the counts are known in advance.
func realPrometheus(t *testing.T, om string) string {
	t.Helper()
	return promtest.Run(t, promtest.Options{Backfill: om, ScrapeInterval: 30 * time.Second}).URL
}

// openMetrics builds OpenMetrics text for promtool: each series' samples together, in time order.
type openMetrics struct {
	b strings.Builder
}

// counter writes one series of name with labels, scraped every step (30s) from from to to, its value at
// each time given by value.
func (o *openMetrics) counter(name string, labels map[string]string, from, to time.Time, value func(time.Time) float64) {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var ls []string
	for _, k := range keys {
		ls = append(ls, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	sel := name + "{" + strings.Join(ls, ",") + "}"
	for ts := from; !ts.After(to); ts = ts.Add(step) {
		fmt.Fprintf(&o.b, "%s %g %d\n", sel, value(ts), ts.Unix())
	}
}

// String ends the text with OpenMetrics' # EOF.
func (o *openMetrics) String() string { return o.b.String() + "# EOF\n" }
