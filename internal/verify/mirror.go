package verify

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/mlcanary/mlcanary/internal/loadtest"
)

// After Shadow_N the default route's weights are green 100% and the route also copies N% of its
// requests to blue (Istio's mirror). The copies' answers are discarded, so no client can see them:
// verify counts them where they arrive, in what blue's and green's pods answered (their sidecars'
// count, Istio's istio_requests_total with reporter="destination"). An Istio gateway never reports a
// mirror's copy itself, only blue's sidecar does, so blue's pods answering about N% as many requests
// as green's while only the default route is used is the mirror at work.

// CopyCounts are the requests each version's pods answered in a window.
type CopyCounts struct {
	Green int64 `json:"green"`
	Blue  int64 `json:"blue"`
	// Source says where they were counted, e.g. the Prometheus endpoint, for the report.
	Source string `json:"source"`
}

// Copies counts the requests each version's pods answered in the window [start, end]. A source
// that is scraped (Prometheus) waits until its data covers end, so that every request verify sent
// before end is counted. Its error is one sentence.
type Copies func(ctx context.Context, start, end time.Time) (CopyCounts, error)

// MirrorCheck is the measurement of the mirror: the default route's requests verify sent on their
// own (no header route) and what each version's pods answered meanwhile.
type MirrorCheck struct {
	// Expected is the share (percent) of the default route's requests the mirror copies to blue.
	Expected int `json:"expected"`
	// Measured is false when no source of counts was given (Options.Copies): then nothing below is set.
	Measured bool `json:"measured"`
	// Sent is how many requests verify sent to the default route in the window.
	Sent int `json:"sent,omitempty"`
	// Counts are what the pods answered in the window; Share is Blue/Green in percent.
	Counts  CopyCounts `json:"counts"`
	Share   float64    `json:"share"`
	Problem string     `json:"problem,omitempty"`
}

// checkMirror sends the default route requests of its own (o.Requests, or enough to tell N% within
// the tolerance at the confidence) and asks o.Copies what each version's pods answered meanwhile:
// blue's count over green's must be N% within the tolerance. It runs before every other check, so
// no request verify sends to a header route falls into the window. Without o.Copies it only
// records that the copies were not measured.
func checkMirror(ctx context.Context, url string, t Target, o Options) (*MirrorCheck, error) {
	mc := &MirrorCheck{Expected: t.Mirror}
	if o.Copies == nil {
		return mc, nil
	}
	mc.Measured = true
	p := float64(t.Mirror) / 100
	n := o.Requests
	if n <= 0 {
		n = loadtest.SampleSize([]float64{1 - p, p}, o.Confidence, o.Tolerance)
	}
	start := time.Now()
	m, err := measure(ctx, url, nil, n, nil, o)
	if err != nil {
		return nil, err
	}
	end := time.Now()
	mc.Sent = m.Tally.Completed
	counts, err := o.Copies(ctx, start, end)
	if err != nil {
		mc.Problem = fmt.Sprintf("mirror: the requests blue's and green's pods answered could not be counted, so the mirror's copies were not measured: %v", err)
		return mc, nil
	}
	mc.Counts = counts
	if counts.Green > 0 {
		mc.Share = 100 * float64(counts.Blue) / float64(counts.Green)
	}
	mc.Problem = mirrorProblem(mc, o.Tolerance)
	return mc, nil
}

// mirrorProblem is the one sentence saying how the measured copies differ from the mirror's
// share, "" when they agree within tolerance (a fraction).
func mirrorProblem(mc *MirrorCheck, tolerance float64) string {
	c := mc.Counts
	switch {
	case c.Green == 0:
		return fmt.Sprintf("mirror: green's pods answered none of the %d requests verify sent to the default route (counted by %s), so blue's share of copies cannot be measured", mc.Sent, c.Source)
	case c.Blue == 0:
		return fmt.Sprintf("mirror: blue's pods answered no request while green's answered %d on the default route (counted by %s), so nothing is mirrored to blue; want %d%% copies", c.Green, c.Source, mc.Expected)
	case math.Abs(mc.Share-float64(mc.Expected)) > 100*tolerance:
		return fmt.Sprintf("mirror: blue's pods answered %d requests for green's %d on the default route (%.1f%%, counted by %s), want %d%% copies ±%g points", c.Blue, c.Green, mc.Share, c.Source, mc.Expected, 100*tolerance)
	}
	return ""
}
