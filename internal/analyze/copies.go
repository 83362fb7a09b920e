package analyze

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// CopiesWait is how long Copies waits, after verify's last request, for the Prometheus data to
// cover it and for the copies to settle (and, before verify sends, for a fresh scrape): a few scrape
// intervals of any usual setup (15–60 s).
const CopiesWait = 3 * time.Minute

// CopiesQuiet is how long blue's count of copies must stand still, over fresh scrapes, before
// counts that fail the mirror are believed: a copy is reported only once blue has answered it, so a
// slow model's copies arrive well after verify's last answer.
const CopiesQuiet = 30 * time.Second

// Copies is verify's count of what each version's pods answered (verify.Copies, to measure a
// Shadow_N mirror), read from the Istio metrics of the analysis source in: the requests each
// version's sidecars answered in the window (istioprom.Measure: istio_requests_total with
// reporter="destination") and blue's requests a sending proxy reported (istioprom.Sent: not
// copies). The window opens at a scrape after verify asked (so nothing sent before verify counts)
// and closes once the copies have been answered and scraped (promCopies.Count). nil when in measures
// paired load (--source loadtest), which sees no mirror. A bad credential or client is an error;
// nothing has been sent.
func Copies(in Inputs, cfg config.Config, id Identity) (verify.Copies, error) {
	if in.Source != SourcePrometheus {
		return nil, nil
	}
	api, azure, err := prometheusAPI(in, id)
	if err != nil {
		return nil, err
	}
	version := func(v config.Version) istioprom.Version {
		return istioprom.Version{Name: string(v), Workload: cfg.Objects[v].Deployment, Service: cfg.Objects[v].Service}
	}
	base := istioprom.Config{Endpoint: istioprom.Redact(in.PrometheusURL), Namespace: cfg.Namespace,
		Blue: version(config.Blue), Green: version(config.Green), SLO: in.LatencySLO, Azure: azure}
	return promCopies{q: api, base: base, poll: time.Second, wait: CopiesWait, quiet: CopiesQuiet}, nil
}

// promCopies counts copies from Prometheus, polling every poll.
type promCopies struct {
	q                 istioprom.Querier
	base              istioprom.Config
	poll, wait, quiet time.Duration
}

// snapshot is one reading of the window (start, now]: the counts and the time of the oldest of the
// newest samples they came from (every series read has been scraped at or after it).
type snapshot struct {
	counts  verify.CopyCounts
	scraped time.Time
}

// read measures the window (start, now]. A stale reading is not an error (ok false): the caller
// waits for a scrape.
func (p promCopies) read(ctx context.Context, start time.Time) (snapshot, bool, error) {
	c := p.base
	c.Start, c.End = start, time.Now()
	res, err := istioprom.Measure(ctx, p.q, c)
	var stale *istioprom.StaleError
	var none *istioprom.NoSeriesError
	blueless := false // blue's pods never answered a request: Istio has no series for them
	switch {
	case errors.As(err, &none) && none.Version.Name == p.base.Blue.Name && none.OtherHasSeries:
		blueless = true
		c.Blue = p.base.Green // measured twice; blue's count is 0
		res, err = istioprom.Measure(ctx, p.q, c)
	}
	switch {
	case errors.As(err, &stale):
		return snapshot{}, false, nil
	case err != nil:
		return snapshot{}, false, err
	}
	sent, err := istioprom.Sent(ctx, p.q, c, p.base.Blue)
	if err != nil {
		return snapshot{}, false, err
	}
	s := snapshot{counts: verify.CopyCounts{Green: res.Green.Requests - res.Green.Unserved, Blue: res.Blue.Requests - res.Blue.Unserved,
		BlueSent: sent, Source: p.base.Endpoint}, scraped: res.Green.Newest}
	if blueless {
		s.counts.Blue, s.counts.BlueSent = 0, 0
	} else if res.Blue.Newest.Before(s.scraped) {
		s.scraped = res.Blue.Newest
	}
	return s, true, nil
}

// Open waits, for at most wait, until both versions have a sample newer than the call and returns
// the newest sample's time: the window's start, whose baseline (each series' last sample at or
// before it) counts everything answered before verify sends.
func (p promCopies) Open(ctx context.Context) (time.Time, error) {
	asked := time.Now()
	deadline := asked.Add(p.wait)
	for {
		s, ok, err := p.read(ctx, asked.Add(-time.Second))
		if err != nil {
			return time.Time{}, err
		}
		if ok && s.scraped.After(asked) {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("the Istio metrics at %s have no sample of both versions newer than verify's start %s later", p.base.Endpoint, p.wait)
		}
		if err := sleep(ctx, p.poll); err != nil {
			return time.Time{}, err
		}
	}
}

// Count reads the window (start, now] every poll once both versions have a sample newer than end,
// until blue's copies have stood still over two fresh scrapes (green's count may grow with other clients' traffic) and good accepts the counts, or stood
// still for quiet (a failing count is believed only then), for at most wait after end: then the
// last fresh counts are judged as they are. The counts include no request verify sends after end
// (verify waits for them before its next request).
func (p promCopies) Count(ctx context.Context, start, end time.Time, good func(verify.CopyCounts) bool) (verify.CopyCounts, error) {
	deadline := end.Add(p.wait)
	var last snapshot
	var still time.Time // since when blue's copies have not changed, over fresh scrapes
	fresh := 0
	for {
		s, ok, err := p.read(ctx, start)
		if err != nil {
			return verify.CopyCounts{}, err
		}
		if ok && s.scraped.After(end) && s.scraped.After(last.scraped) {
			if fresh > 0 && s.counts.Blue == last.counts.Blue && s.counts.BlueSent == last.counts.BlueSent {
				if still.IsZero() {
					still = last.scraped
				}
				if good == nil || good(s.counts) || s.scraped.Sub(still) >= p.quiet {
					return s.counts, nil
				}
			} else {
				still = time.Time{}
			}
			fresh++
			last = s
		}
		if time.Now().After(deadline) {
			if fresh > 0 {
				return last.counts, nil
			}
			return verify.CopyCounts{}, fmt.Errorf("the Istio metrics at %s have no sample of both versions newer than verify's last request %s later", p.base.Endpoint, p.wait)
		}
		if err := sleep(ctx, p.poll); err != nil {
			return verify.CopyCounts{}, err
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// AddSourceFlags binds only the Prometheus source's flags (--prometheus-url and its credential
// files) to fs, with NewInputs' defaults for the rest: `mlcanary verify` counts a mirror's copies
// from that source (SourceGiven says whether one was given).
func (in *Inputs) AddSourceFlags(fs *pflag.FlagSet) {
	d := NewInputs()
	*in = d
	fs.StringVar(&in.PrometheusURL, flagPrometheusURL, d.PrometheusURL, "after Shadow_N: count the mirror's copies from Istio's metrics in this Prometheus HTTP API, e.g. http://prometheus.istio-system:9090 (default: not counted)")
	fs.StringVar(&in.TokenFile, flagTokenFile, d.TokenFile, "file holding a bearer token for the Prometheus API (read at each request, never printed)")
	fs.StringVar(&in.Username, flagUser, d.Username, "user name for basic auth to the Prometheus API (with --"+flagPasswordFile+")")
	fs.StringVar(&in.PasswordFile, flagPasswordFile, d.PasswordFile, "file holding the basic-auth password (read at each request, never printed)")
}

// SourceGiven reports whether AddSourceFlags' --prometheus-url was given.
func (in *Inputs) SourceGiven() bool { return strings.TrimSpace(in.PrometheusURL) != "" }
