package istioprom

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/mlcanary/mlcanary/internal/config"
)

// QueryError is a query the backend did not answer: its message, as the backend gave it.
type QueryError struct {
	Endpoint, Query string
	Err             error
	// Azure: the endpoint is an Azure Monitor workspace.
	Azure bool
}

// maxDetail is how much of an HTTP error's body a QueryError repeats.
const maxDetail = 200

// Error is one line: `querying https://prom:9090 for <query>: bad_data: invalid parameter "query": …`.
// An HTTP error that is not the API's (a proxy's 401 or 403, say) adds the start of its body, which
// says why (Azure Monitor names the missing role there).
func (e *QueryError) Error() string {
	msg := e.Err.Error()
	var api *v1.Error
	if errors.As(e.Err, &api) && api.Detail != "" {
		detail := strings.Join(strings.Fields(api.Detail), " ")
		if len(detail) > maxDetail {
			detail = detail[:maxDetail] + "…"
		}
		msg += ": " + detail
	}
	if e.Azure && api != nil && api.Type == v1.ErrClient && strings.Contains(api.Msg, "403") {
		msg += " (the identity needs the Monitoring Data Reader role on the Azure Monitor workspace)"
	}
	return config.Printable(fmt.Sprintf("querying %s for %s: %s", e.Endpoint, e.Query, msg))
}

func (e *QueryError) Unwrap() error { return e.Err }

// Transient reports whether the same query may be answered a moment later: the backend answered
// with a server error (HTTP 5xx, a proxy's 502/503/504 included) or 429 Too Many Requests, timed
// out, or could not be reached. A refused query (400, 401, 403, 422) is not.
func (e *QueryError) Transient() bool {
	var api *v1.Error
	if errors.As(e.Err, &api) {
		return api.Type == v1.ErrServer || api.Type == v1.ErrTimeout || strings.Contains(api.Msg, "429")
	}
	var netErr net.Error
	return errors.As(e.Err, &netErr)
}

// NoSeriesError is a selector that matched no series at all in the range read.
type NoSeriesError struct {
	Version   Version
	Namespace string
	Selector  string
	Window    time.Duration
	// OtherHasSeries: the other version's same selector found series, so the labels, the sidecars
	// and the scraping work for it.
	OtherHasSeries bool
	Other          string
	// OtherRequests is the other version's requests in the window when it has series: with the
	// split, it tells a version that had no request yet from one whose requests are not reported.
	OtherRequests int64
}

// Error names the selector and what usually causes it.
func (e *NoSeriesError) Error() string {
	head := fmt.Sprintf("no series of %s in the %s before the window's end", e.Selector, e.Window)
	if e.OtherHasSeries {
		return config.Printable(fmt.Sprintf("%s, while %s has them: no request has reached %s's workload %s yet "+
			"(Istio creates a series at the first request), or its pods have no Istio sidecar", head, e.Other, e.Version.Name, e.Version.Workload))
	}
	return config.Printable(fmt.Sprintf("%s, nor for %s: check the namespace %s and workload %s, "+
		"that the pods have Istio sidecars, and that this Prometheus scrapes Istio's metrics", head, e.Other, strconv.Quote(e.Namespace), strconv.Quote(e.Version.Workload)))
}

// StaleError is data older than the scrape interval allows: one version's newest sample against the
// other's (Other), or the newest of both against the window's end (Other ""): the counts may miss the
// latest requests. Waiting and measuring again may find fresh data.
type StaleError struct {
	Version  string
	Newest   time.Time
	Interval time.Duration
	// End is what Newest is compared with: Other's newest sample, or the window's end.
	End   time.Time
	Other string
	// Lag is the delay allowed beyond staleFactor intervals when End is the window's end.
	Lag time.Duration
}

func (e *StaleError) Error() string {
	age := e.End.Sub(e.Newest).Round(time.Second)
	if e.Other != "" {
		return fmt.Sprintf("%s's newest sample is %s older than %s's (%s), more than %g scrape intervals (%s): "+
			"%s's Istio metrics are no longer scraped or arrive late", e.Version, age, e.Other,
			e.End.UTC().Format(time.RFC3339), staleFactor, e.Interval, e.Version)
	}
	return fmt.Sprintf("the newest sample is %s old at %s in both versions, more than %g scrape intervals (%s) and %s of "+
		"delay: Istio's metrics are not scraped or arrive late, or this machine's clock is ahead", age,
		e.End.UTC().Format(time.RFC3339), staleFactor, e.Interval, e.Lag)
}

// NoBoundaryError is a latency SLO above every finite boundary of the duration histogram.
type NoBoundaryError struct {
	SLO        time.Duration
	Boundaries []float64
}

func (e *NoBoundaryError) Error() string {
	if len(e.Boundaries) == 0 {
		return fmt.Sprintf("slow requests cannot be counted: the duration histograms have no finite boundary common to all their series (latency SLO %s)", e.SLO)
	}
	return fmt.Sprintf("slow requests cannot be counted: the largest boundary of the duration histograms is %gms, below the latency SLO %s",
		e.Boundaries[len(e.Boundaries)-1], e.SLO)
}
