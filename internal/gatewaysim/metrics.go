package gatewaysim

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Mesh names what Istio's standard metrics label a request with: the namespace of the model's
// objects and each version's Deployment (destination_workload) and Service
// (destination_service_name). Empty fields take mlcanary's defaults (config.Default): namespace
// abtesting, Deployments model-<version>, Services model-svc-<version>.
type Mesh struct {
	Namespace string
	// Workloads and Services map a version ("green", "blue") to its Deployment's and Service's name.
	Workloads, Services map[string]string
}

func (m Mesh) namespace() string { return or(m.Namespace, "abtesting") }

func (m Mesh) workload(version string) string { return or(m.Workloads[version], "model-"+version) }

func (m Mesh) service(version string) string { return or(m.Services[version], "model-svc-"+version) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Istio's standard metrics (istio.io, "Istio Standard Metrics"), as the proxies of a mesh export
// them at :15020/stats/prometheus: a counter of requests and a histogram of their duration in
// milliseconds, with the same labels.
const (
	metricRequests = "istio_requests_total"
	metricDuration = "istio_request_duration_milliseconds"
)

// istioLabels are the labels of both metrics: Istio's standard set, less the principals, the
// canonical names, the cluster and gRPC status, which nothing here sets.
var istioLabels = []string{"reporter", "source_workload", "source_workload_namespace", "source_app",
	"destination_workload", "destination_workload_namespace", "destination_app", "destination_version",
	"destination_service", "destination_service_name", "destination_service_namespace",
	"request_protocol", "response_code", "response_flags", "connection_security_policy"}

// durationBuckets are the boundaries (ms) of Istio's request duration histogram: Envoy's default
// histogram buckets, which Istio's stats keep.
var durationBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
	60000, 300000, 600000, 1800000, 3600000}

// gatewayWorkload is the ingress gateway as source_workload: the name of Istio's default ingress
// gateway Deployment in istio-system.
const gatewayWorkload, gatewayNamespace = "istio-ingressgateway", "istio-system"

// metrics are one proxy's Istio metrics, in a registry of their own: a new Proxy starts from zero,
// as a restarted Envoy does (a counter reset to whoever scrapes it).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricRequests,
			Help: "Istio's count of requests (gatewaysim's stand-in)."}, istioLabels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricDuration,
			Help: "Istio's request duration in milliseconds (gatewaysim's stand-in).", Buckets: durationBuckets}, istioLabels),
	}
	m.registry.MustRegister(m.requests, m.duration)
	return m
}

// outcome is what happened to one request: the version it was routed to ("" for none), the status
// the client got, whether the proxy answered itself (no backend for the version, or the backend's
// connection failed) and how long it took.
type outcome struct {
	version  string
	code     int
	flags    string
	duration time.Duration
	// mirrored marks a mirror's copy (mirror.go): only the sidecar of the version it reached
	// reports it; the gateway reported the client's request once, for the version it routed to.
	mirrored bool
}

// record counts one request as a mesh's proxies would: one report by the ingress gateway
// (reporter="source") and, when a pod answered, one by that pod's sidecar (reporter="destination").
// A request the gateway answered itself for lack of an upstream has only the gateway's report, with
// destination_workload "unknown", the version's Service and Envoy's response flag (UH: no backend,
// UF: its connection failed); one with no route at all (NR) names no Service either. A request its
// client gave up (DC) is reported with response code 0, as Envoy does.
func (p *Proxy) record(o outcome) {
	mesh := p.cfg.Mesh
	ns := mesh.namespace()
	l := prometheus.Labels{"reporter": "source", "source_workload": gatewayWorkload, "source_workload_namespace": gatewayNamespace,
		"source_app": gatewayWorkload, "destination_workload": "unknown", "destination_workload_namespace": "unknown",
		"destination_app": "unknown", "destination_version": "unknown", "destination_service": "unknown",
		"destination_service_name": "unknown", "destination_service_namespace": "unknown", "request_protocol": "http",
		"response_code": strconv.Itoa(o.code), "response_flags": o.flags, "connection_security_policy": "unknown"}
	if o.version != "" {
		svc := mesh.service(o.version)
		l["destination_service"] = svc + "." + ns + ".svc.cluster.local"
		l["destination_service_name"], l["destination_service_namespace"] = svc, ns
	}
	ms := float64(o.duration) / float64(time.Millisecond)
	reports := []prometheus.Labels{l}
	if o.flags == "-" || o.flags == "DC" { // a pod's sidecar saw it
		l["destination_workload"], l["destination_workload_namespace"] = mesh.workload(o.version), ns
		l["destination_app"], l["destination_version"] = "model", "latest"
		dest := prometheus.Labels{}
		for k, v := range l {
			dest[k] = v
		}
		dest["reporter"], dest["connection_security_policy"] = "destination", "mutual_tls"
		reports = append(reports, dest)
	}
	if o.mirrored {
		reports = reports[1:]
	}
	for _, r := range reports {
		p.metrics.requests.With(r).Inc()
		p.metrics.duration.With(r).Observe(ms)
	}
}

// Metrics serves the proxy's Istio metrics in Prometheus's text format, for a Prometheus to scrape
// (tests serve it at /metrics on a listener of its own, as a proxy serves its stats on a port of its
// own).
func (p *Proxy) Metrics() http.Handler {
	return promhttp.HandlerFor(p.metrics.registry, promhttp.HandlerOpts{})
}

// recorder is the client's ResponseWriter with the status it got and whether the proxy answered
// for lack of a working upstream.
type recorder struct {
	http.ResponseWriter
	code                       int
	upstreamFailed, clientGone bool
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush keeps streaming answers streaming through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the client's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
