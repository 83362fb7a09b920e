package istioprom

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// ClusterLabels are the labels by which a metrics store that holds several clusters' series tells
// them apart: cluster (Azure Monitor's ama-metrics, and the usual external label of Thanos, Mimir and
// Grafana's agents), cluster_name, and k8s_cluster_name (OpenTelemetry's k8s.cluster.name). Series
// of one workload whose values of one of them differ come from different clusters (staging and
// prod with the same namespace and Deployment names), which must never be summed.
var ClusterLabels = []string{"cluster", "cluster_name", "k8s_cluster_name"}

// sourceLabels are the labels a scrape adds that say which scrape a sample came from, not which
// requests it counts: the job (a scrape config, a PodMonitor), the target's port (Istio's merged
// metrics on :15020 and Envoy's on :15090 hold the same counters), prometheus-operator's endpoint
// (the port's name), and the labels that tell the replicas of a highly available Prometheus apart
// when they write to one store.
var sourceLabels = []string{"job", "endpoint", "prometheus", "prometheus_replica", "replica"}

// MixedClustersError is series of the versions that come from several clusters: summing them would
// judge one cluster's blue with another's.
type MixedClustersError struct {
	Label  string
	Values []string
}

func (e *MixedClustersError) Error() string {
	quoted := make([]string, len(e.Values))
	for i, v := range e.Values {
		quoted[i] = strconv.Quote(v)
	}
	return fmt.Sprintf("the series come from %d clusters (label %s: %s) and would be summed: choose one with "+
		"prometheus-labels (the task's prometheusLabels), e.g. %s=%s", len(e.Values), e.Label, strings.Join(quoted, ", "), e.Label, quoted[0])
}

// oneCluster fails with *MixedClustersError when the series of ms carry more than one non-empty
// value of one of ClusterLabels.
func oneCluster(ms ...model.Matrix) error {
	for _, label := range ClusterLabels {
		var values []string
		for _, m := range ms {
			for _, s := range m {
				if v := string(s.Metric[model.LabelName(label)]); v != "" && !slices.Contains(values, v) {
					values = append(values, v)
				}
			}
		}
		if len(values) > 1 {
			slices.Sort(values)
			return &MixedClustersError{Label: label, Values: values}
		}
	}
	return nil
}

// sourceOf is the scrape a series came from: its sourceLabels and its instance's port, as text.
func sourceOf(s *model.SampleStream) string {
	var parts []string
	for _, l := range sourceLabels {
		if v, ok := s.Metric[model.LabelName(l)]; ok {
			parts = append(parts, l+"="+strconv.Quote(string(v)))
		}
	}
	if inst := string(s.Metric["instance"]); strings.Contains(inst, ":") {
		parts = append(parts, "port "+inst[strings.LastIndex(inst, ":")+1:])
	}
	return strings.Join(parts, ",")
}

// oneSource keeps the series of m from one scrape when several scrapes (two jobs, two ports of the
// same sidecar, two Prometheus replicas) report the same counters: summed, every request would count
// once per scrape, and the intervals would be too narrow for the confidence promised. It keeps the
// scrape whose series grew most in the window (they count the same requests; the largest is the one
// that missed fewest targets), the first in order on a tie, and says so in a warning naming what.
func oneSource(m model.Matrix, start time.Time, what string) (model.Matrix, string) {
	groups := map[string]model.Matrix{}
	var keys []string
	for _, s := range m {
		k := sourceOf(s)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
	if len(keys) < 2 {
		return m, ""
	}
	slices.Sort(keys)
	best, most := keys[0], -1.0
	for _, k := range keys {
		total := 0.0
		for _, s := range groups[k] {
			total += increase(s.Values, start, true)
		}
		if total > most {
			best, most = k, total
		}
	}
	return groups[best], fmt.Sprintf("%s are reported by %d scrapes of the same sidecars (%s): counted once, from %s",
		what, len(keys), strings.Join(keys, "; "), best)
}
