package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/mlcanary/mlcanary/internal/loadtest"
)

// After Shadow_N the default route's weights are green 100% and the route also copies N% of its
// requests to blue (Istio's mirror). The copies' answers are discarded, so no client can see them:
// verify counts them where they arrive, in what blue's pods answered (their sidecars' count, Istio's
// istio_requests_total with reporter="destination"), net of blue's requests that a sending proxy
// reported (reporter="source": the gateway for blue's header route, a calling pod's sidecar in the
// mesh). Envoy never reports a mirror's copy from the sending side, so what remains are copies.
//
// The share is judged from both sides, so that traffic the mirror never saw cannot fail a correct
// mirror: other clients can only ADD copies (their default-route requests are mirrored too), so
// copies against the requests verify itself sent is the share's upper reach and fails only when it
// is surely under N% (too few copies, or none); green's pods answered every request the mirror saw
// plus any other (its header route, in-mesh callers), so copies against green's count is the
// share's lower reach and fails only when it is surely over N%. "Surely" is the Wilson interval at
// verify's confidence lying wholly outside N% ± the tolerance, as for every other verify count; an
// interval that is neither inside nor outside is shown as undecided, not failed.

// CopyCounts are the requests each version's pods answered in a window.
type CopyCounts struct {
	Green int64 `json:"green"`
	Blue  int64 `json:"blue"`
	// BlueSent are blue's requests a sending proxy reported (its header route, in-mesh callers):
	// not copies.
	BlueSent int64 `json:"blueSent"`
	// Source says where they were counted, e.g. the Prometheus endpoint, for the report.
	Source string `json:"source"`
}

// Copies are blue's requests that no proxy reported sending: the mirror's copies (never negative).
func (c CopyCounts) Copies() int64 { return max(c.Blue-c.BlueSent, 0) }

// Copies counts the requests each version's pods answered in a window that verify opens before it
// sends and closes after. Both methods' errors are one sentence.
type Copies interface {
	// Open waits until the source has counted everything answered before it was called (for
	// Prometheus: a scrape newer than the call) and returns the window's start: requests before it,
	// e.g. an earlier verify's or compare's, are not counted.
	Open(ctx context.Context) (time.Time, error)
	// Count counts the window (start, end], end being verify's last request: it waits until the
	// copies of verify's requests have been answered and counted (they arrive after the answers
	// verify got), returning early once good says the counts pass.
	Count(ctx context.Context, start, end time.Time, good func(CopyCounts) bool) (CopyCounts, error)
}

// CopiesFunc is a source that counts at once (no lag): Open is the current time and Count calls f.
type CopiesFunc func(ctx context.Context, start, end time.Time) (CopyCounts, error)

// Open returns the current time.
func (f CopiesFunc) Open(context.Context) (time.Time, error) { return time.Now(), nil }

// Count calls f.
func (f CopiesFunc) Count(ctx context.Context, start, end time.Time, _ func(CopyCounts) bool) (CopyCounts, error) {
	return f(ctx, start, end)
}

// MirrorCheck is the measurement of the mirror: the default route's requests verify sent on their
// own (no header route) and what each version's pods answered meanwhile.
type MirrorCheck struct {
	// Expected is the share (percent) of the default route's requests the mirror copies to blue.
	Expected int `json:"expected"`
	// Measured is false when no source of counts was given (Options.Copies): then nothing below is set.
	Measured bool `json:"measured"`
	// Sent is how many requests verify sent to the default route in the window.
	Sent int `json:"sent,omitempty"`
	// Counts are what the pods answered in the window; Share is the copies over Sent in percent
	// (what verify's own requests were copied at, plus any other client's copies).
	Counts CopyCounts `json:"counts"`
	Share  float64    `json:"share"`
	// OfGreen is the copies over green's count in percent (at most the mirror's share).
	OfGreen float64 `json:"ofGreen"`
	// Undecided says the counts could neither confirm nor refute the share (too few requests).
	Undecided bool   `json:"undecided,omitempty"`
	Problem   string `json:"problem,omitempty"`
}

// checkMirror opens a window of o.Copies, sends the default route requests of its own (o.Requests,
// or enough to tell N% within the tolerance at the confidence) and asks o.Copies what each
// version's pods answered meanwhile (mirrorProblem judges it). It runs before every other check, so
// no request verify sends to a header route falls into the window. Without o.Copies it only records
// that the copies were not measured.
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
	start, err := o.Copies.Open(ctx)
	if err != nil {
		mc.Problem = fmt.Sprintf("mirror: the requests blue's and green's pods answered could not be counted, so the mirror's copies were not measured: %v", err)
		return mc, nil
	}
	m, err := measure(ctx, url, nil, n, nil, o)
	if err != nil {
		return nil, err
	}
	end := time.Now()
	mc.Sent = m.Tally.Completed
	good := func(c CopyCounts) bool {
		try := *mc
		try.Counts = c
		return judgeMirror(&try, o.Confidence, o.Tolerance) == ""
	}
	counts, err := o.Copies.Count(ctx, start, end, good)
	if err != nil {
		mc.Problem = fmt.Sprintf("mirror: the requests blue's and green's pods answered could not be counted, so the mirror's copies were not measured: %v", err)
		return mc, nil
	}
	mc.Counts = counts
	mc.Problem = judgeMirror(mc, o.Confidence, o.Tolerance)
	return mc, nil
}

// judgeMirror sets mc's shares and Undecided from its counts and returns the one sentence saying how
// the copies differ from the mirror's share, "" when they do not surely differ. tolerance is a
// fraction; the intervals are Wilson's at confidence, one per side.
func judgeMirror(mc *MirrorCheck, confidence, tolerance float64) string {
	c := mc.Counts
	copies := c.Copies()
	p := float64(mc.Expected) / 100
	z := loadtest.Z(confidence, 2)
	mc.Share, mc.OfGreen, mc.Undecided = 0, 0, false
	if mc.Sent > 0 {
		mc.Share = 100 * float64(copies) / float64(mc.Sent)
	}
	if c.Green > 0 {
		mc.OfGreen = 100 * float64(copies) / float64(c.Green)
	}
	counted := ""
	if c.BlueSent > 0 {
		counted = fmt.Sprintf(", not counting %d a client sent blue on its own", c.BlueSent)
	}
	if c.Green == 0 {
		return fmt.Sprintf("mirror: green's pods answered none of the %d requests verify sent to the default route (counted by %s), so blue's share of copies cannot be measured", mc.Sent, c.Source)
	}
	// Too few: copies of verify's own requests (others only add) surely under N% - tolerance.
	few := loadtest.Wilson(int(min(copies, int64(mc.Sent))), mc.Sent, z)
	// Too many: copies of everything green answered (all the mirror saw) surely over N% + tolerance.
	many := loadtest.Wilson(int(min(copies, c.Green)), int(c.Green), z)
	switch {
	case copies == 0 && few.High < p-tolerance:
		return fmt.Sprintf("mirror: blue's pods answered no copy of the %d requests verify sent to the default route (counted by %s%s), so nothing is mirrored to blue; want %d%% copies", mc.Sent, c.Source, counted, mc.Expected)
	case few.High < p-tolerance:
		return fmt.Sprintf("mirror: blue's pods answered %d copies of the %d requests verify sent to the default route (%.1f%%, counted by %s%s), want %d%% copies ±%g points", copies, mc.Sent, mc.Share, c.Source, counted, mc.Expected, 100*tolerance)
	case many.Low > p+tolerance:
		return fmt.Sprintf("mirror: blue's pods answered %d copies for green's %d requests (%.1f%%, counted by %s%s), want %d%% copies ±%g points", copies, c.Green, mc.OfGreen, c.Source, counted, mc.Expected, 100*tolerance)
	}
	mc.Undecided = few.Low < p-tolerance || many.High > p+tolerance
	return ""
}
