package analyze

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// Split is the traffic split the judged window ran at: the default route's percentages and the
// mirror's (summary.Result's Weights and Mirror), as the stage left them or status reads them. Known
// is false when it was not read (`analyze --since`, no cluster).
type Split struct {
	Green, Blue, Mirror int
	Known               bool
}

// String is the split as the summaries write it, e.g. "green 50%, blue 50%".
func (s Split) String() string {
	if s.Mirror > 0 {
		return fmt.Sprintf("green %d%%, blue %d%%, %d%% mirrored to blue", s.Green, s.Blue, s.Mirror)
	}
	return fmt.Sprintf("green %d%%, blue %d%%", s.Green, s.Blue)
}

// share is the fraction of the requests version v receives at the known split: its default-route
// weight, and for blue also the mirrored copies of green's.
func (s Split) share(v string) float64 {
	if v == "blue" {
		return (float64(s.Blue) + float64(s.Green)*float64(s.Mirror)/100) / 100
	}
	return float64(s.Green) / 100
}

// expectedMissing is how many requests the version without series should have received while the
// other served otherRequests, at the split's shares; 0 when the split gives it nothing. An unknown
// split is taken as the smallest share a Blue_N stage gives a version, 1% (99% to the other), so it
// never overstates what was expected.
func (s Split) expectedMissing(missing string, otherRequests int64) float64 {
	other := "green"
	if missing == "green" {
		other = "blue"
	}
	m, o := 0.01, 0.99
	if s.Known {
		m, o = s.share(missing), s.share(other)
	}
	switch {
	case m <= 0:
		return 0
	case o <= 0:
		o = 0.01
	}
	return float64(otherRequests) * m / o
}

// surelyReached is the number of requests a version should have received by the window's end for
// "no series at all" to be a configuration fault rather than chance: with that many expected, the
// chance that none arrived is below e^-30 (Poisson), about 1e-13.
const surelyReached = 30

// missingSeriesFault is the configuration fault a version without series is at the window's end when
// the other version served enough traffic at a split that gives it a share (surelyReached): its
// requests reach it but nothing reports them (no Istio sidecar, labels that do not match). One
// sentence naming the selector that found nothing; nil when too little traffic explains it.
func missingSeriesFault(err *istioprom.NoSeriesError, split Split) error {
	expected := split.expectedMissing(err.Version.Name, err.OtherRequests)
	if !err.OtherHasSeries || expected < surelyReached {
		return nil
	}
	at := "at an unknown split (taken as 1% to " + err.Version.Name + ")"
	if split.Known {
		at = "at " + split.String()
	}
	return fmt.Errorf("no series of %s in the window, while %s served %d requests %s, about %.0f of which %s should have answered: "+
		"a configuration fault, not too little traffic — %s's pods have no Istio sidecar (sidecar.istio.io/inject, the namespace's istio-injection label) "+
		"or the workload %q is not the name Istio reports", err.Selector, err.Other, err.OtherRequests, at, expected, err.Version.Name,
		err.Version.Name, err.Version.Workload)
}

// frozenSeriesFault is missingSeriesFault's kind through stale data: a version whose series exist
// but did not grow at all in the window (its newest sample older than the other's, no request
// counted since start) while the other version served enough requests at a split that gives it a
// share (surelyReached) — its pods lost their sidecar between stages, or the pods now serving are not
// the ones scraped — is a configuration fault, never stale data that --on-undecided pass passes.
// Nil when the stale version counted requests in the window (its scraping stopped mid-window: stale),
// when the other served too few to tell, or for staleness of both versions.
func frozenSeriesFault(stale *istioprom.StaleError, res istioprom.Result, split Split) error {
	if stale.Other == "" {
		return nil
	}
	frozen, other := res.Blue, res.Green
	if stale.Version == res.Green.Version {
		frozen, other = res.Green, res.Blue
	}
	if frozen.Version != stale.Version || frozen.Requests > 0 {
		return nil
	}
	expected := split.expectedMissing(stale.Version, other.Requests)
	if expected < surelyReached {
		return nil
	}
	at := "at an unknown split (taken as 1% to " + stale.Version + ")"
	if split.Known {
		at = "at " + split.String()
	}
	return fmt.Errorf("%s's series did not grow in the window (newest sample %s, %s before %s's), while %s served %d requests %s, about %.0f of which %s should have answered: "+
		"a configuration fault, not stale data — %s's pods serving now have no Istio sidecar (sidecar.istio.io/inject, the namespace's istio-injection label) "+
		"or are not scraped", stale.Version, stale.Newest.UTC().Format(time.RFC3339), stale.End.Sub(stale.Newest).Round(time.Second), other.Version,
		other.Version, other.Requests, at, expected, stale.Version, stale.Version)
}

// greenBefore is the Measurer of a bake after full promotion (a split that gives green no traffic,
// Blue_100, while green still exists): blue over the window judged, (start, end], against green's
// own traffic in the equally long window that ends at the change, (changedAt - (end - start),
// changedAt], when green still served. Both windows grow with the looks, each nested in the next.
// Its errors are istioprom.Measure's, green's prefixed with the window they are about.
func greenBefore(api v1.API, base istioprom.Config, changedAt time.Time) Measurer {
	return func(ctx context.Context, start, end time.Time) (istioprom.Result, error) {
		b := base
		b.Green, b.Start, b.End = b.Blue, start, end // blue alone: green's series stopped growing at the change
		after, err := istioprom.Measure(ctx, api, b)
		if err != nil {
			return after, err
		}
		g := base
		g.Blue, g.Start, g.End = g.Green, changedAt.Add(-end.Sub(start)), changedAt
		before, err := istioprom.Measure(ctx, api, g)
		if err != nil {
			return after, fmt.Errorf("green's traffic in the %s before the change at %s: %w", end.Sub(start).Round(time.Second),
				changedAt.UTC().Format(time.RFC3339), err)
		}
		res := after
		res.Green = before.Green
		half := len(after.Queries) / 2 // each Measure asks blue's queries, then green's
		res.Queries = append(append([]istioprom.Query{}, after.Queries[:half]...), before.Queries[half:]...)
		res.Warnings = append(res.Warnings, before.Warnings...)
		return res, nil
	}
}

// GreenWindow is where green was judged when it is not the window judged for blue: the equally
// long window before the change of a bake after full promotion (greenBefore); nil otherwise.
func greenWindow(s Settings, start, end time.Time) *Window {
	if s.GreenBefore.IsZero() {
		return nil
	}
	return &Window{Start: s.GreenBefore.Add(-end.Sub(start)), End: s.GreenBefore}
}

// isNoSeries is err's *istioprom.NoSeriesError, if it is one.
func isNoSeries(err error) (*istioprom.NoSeriesError, bool) {
	var ns *istioprom.NoSeriesError
	ok := errors.As(err, &ns)
	return ns, ok
}

// judgeable fails when Istio's metrics cannot judge blue at the split whatever the traffic, so the
// gate never ends "undecided: N more requests would decide it" when none could: a split that gives
// blue nothing (Blue_0, Rollback; paired load still reaches it through its header route), or one
// that gives green nothing without the change record that finds green's traffic before it.
func judgeable(split Split, changedAt time.Time) error {
	switch {
	case !split.Known:
		return nil
	case split.share("blue") == 0:
		return fmt.Errorf("the live split (%s) gives blue no traffic, so Istio's metrics hold nothing of blue's to judge: "+
			"analyze after a Shadow_N, Blue_N or Blue_100 stage, or send paired load through its header route (source loadtest)", split)
	case split.share("green") == 0 && changedAt.IsZero():
		return fmt.Errorf("the live split (%s) gives green no traffic and the VirtualService has no change record, so green's traffic before the change "+
			"cannot be found to judge blue against: run stage Blue_100 --analysis, which records the change, or send paired load (source loadtest)", split)
	}
	return nil
}
