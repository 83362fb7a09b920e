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
// cover it (a sample of each version's series newer than that request): a few scrape intervals of
// any usual setup (15–60 s).
const CopiesWait = 3 * time.Minute

// Copies is verify's count of what each version's pods answered (verify.Copies, to measure a
// Shadow_N mirror), read from the Istio metrics of the analysis source in: the requests each
// version's sidecars answered in the window (istioprom.Measure: istio_requests_total with
// reporter="destination"), once each version has a sample newer than the window's end. nil when in
// measures paired load (--source loadtest), which sees no mirror. A bad credential or client is an
// error; nothing has been sent.
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
	return func(ctx context.Context, start, end time.Time) (verify.CopyCounts, error) {
		return countCopies(ctx, api, base, start, end, time.Second, CopiesWait)
	}, nil
}

// countCopies measures (start, now] every poll until both versions have a sample newer than end,
// for at most wait after end. The Measure at that moment counts every request up to end, and none
// that verify sends after it (verify waits for the count before its next request).
func countCopies(ctx context.Context, q istioprom.Querier, base istioprom.Config, start, end time.Time, poll, wait time.Duration) (verify.CopyCounts, error) {
	deadline := end.Add(wait)
	blueless := false // blue's pods never answered a request: Istio has no series for them
	for {
		c := base
		c.Start, c.End = start, time.Now()
		if blueless {
			c.Blue = base.Green // measured twice; blue's count is 0
		}
		res, err := istioprom.Measure(ctx, q, c)
		var stale *istioprom.StaleError
		var none *istioprom.NoSeriesError
		switch {
		case !blueless && errors.As(err, &none) && none.Version.Name == base.Blue.Name && none.OtherHasSeries:
			blueless = true
			continue
		case err != nil && !errors.As(err, &stale):
			return verify.CopyCounts{}, err
		case err == nil && res.Green.Newest.After(end) && res.Blue.Newest.After(end):
			out := verify.CopyCounts{Green: res.Green.Requests - res.Green.Unserved, Blue: res.Blue.Requests - res.Blue.Unserved, Source: base.Endpoint}
			if blueless {
				out.Blue = 0
			}
			return out, nil
		case time.Now().After(deadline):
			return verify.CopyCounts{}, fmt.Errorf("the Istio metrics at %s have no sample of both versions newer than verify's last request %s later", base.Endpoint, wait)
		}
		select {
		case <-ctx.Done():
			return verify.CopyCounts{}, ctx.Err()
		case <-time.After(poll):
		}
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
