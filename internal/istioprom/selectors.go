// Package istioprom measures each version's requests, errors and slow requests from Istio's
// standard metrics through a Prometheus HTTP API (a Prometheus server, or later an Azure Monitor
// workspace, which serves the same API): raw samples over the window, turned into exact counts here,
// not rates, so internal/analysis can judge blue against green. It tells apart the ways there can be
// nothing to judge (no series, no traffic, stale data, a failed query), each in one sentence.
package istioprom

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Istio's standard metric names (istio.io "Istio Standard Metrics"): a counter of requests and a
// histogram of their duration in milliseconds, both labelled by reporter, destination workload,
// service and namespace, response code and Envoy's response flags.
const (
	metricRequests = "istio_requests_total"
	metricDuration = "istio_request_duration_milliseconds_bucket"
)

// noUpstreamFlags are Envoy's response flags of a request a proxy answered itself because it had no
// upstream to send it to, always with a 503 (Envoy's access-log documentation, %RESPONSE_FLAGS%):
// UH no healthy upstream host in the cluster (e.g. no ready pod), UF upstream connection failure, UO
// upstream overflow (circuit breaking), NC upstream cluster not found. The destination's sidecar never
// sees such a request, so only the reporting proxy (reporter="source": the ingress gateway, or a
// calling pod's sidecar) counts it, with destination_workload "unknown" but the Service it was
// routed to. NR (no route, a 404) is left out: no route means no version, nothing to attribute.
// URX (retry limit) is left out too: its attempts reached a pod, whose sidecar counted them.
// Several flags are joined with commas, e.g. "URX,UF".
var noUpstreamFlags = []string{"UH", "UF", "UO", "NC"}

// Version names one version's objects, as Istio's labels spell them.
type Version struct {
	// Name is "blue" or "green".
	Name string
	// Workload is the Deployment's name: Istio's destination_workload.
	Workload string
	// Service is the Service the VirtualService routes the version to: destination_service_name.
	Service string
}

// Query is one PromQL query and the time it is evaluated at, as sent: the summary prints it so a
// person can run it again.
type Query struct {
	What   string    `json:"what"`
	PromQL string    `json:"promql"`
	Time   time.Time `json:"time"`
}

// selectors are one version's three selectors, each naming one metric (Azure Monitor accepts one
// metric name per selector): the requests its pods' sidecars answered, the requests a proxy answered
// for it for lack of an upstream, and the duration histogram of the former.
type selectors struct {
	served, unserved, duration string
}

// selectorsFor builds v's selectors in namespace, each with matchers (ParseMatchers' PromQL) added.
func selectorsFor(namespace string, v Version, matchers []string) selectors {
	extra := ""
	for _, m := range matchers {
		extra += "," + m
	}
	dest := fmt.Sprintf(`reporter="destination",destination_workload_namespace=%s,destination_workload=%s`,
		quote(namespace), quote(v.Workload)) + extra
	flags := "(.*,)?(" + strings.Join(noUpstreamFlags, "|") + ")(,.*)?"
	return selectors{
		served: metricRequests + "{" + dest + "}",
		unserved: fmt.Sprintf(`%s{reporter="source",destination_service_namespace=%s,destination_service_name=%s,response_flags=~%s%s}`,
			metricRequests, quote(namespace), quote(v.Service), quote(flags), extra),
		duration: metricDuration + "{" + dest + "}",
	}
}

// rangeOf is selector's raw samples over the last d, d rounded up to whole seconds (Prometheus
// range selectors take units; whole seconds are exact and accepted by every backend).
func rangeOf(selector string, d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return selector + "[" + strconv.FormatInt(secs, 10) + "s]"
}

// quote is a PromQL string literal: double-quoted with Go's escapes, which PromQL shares.
func quote(s string) string { return strconv.Quote(s) }
