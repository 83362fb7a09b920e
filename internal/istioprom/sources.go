package istioprom

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// ClusterLabels are the labels by which a metrics store that holds several clusters' series tells
// them apart: cluster (Azure Monitor's ama-metrics, and the usual external label of Thanos, Mimir and
// Grafana's agents), cluster_name, k8s_cluster_name (OpenTelemetry's k8s.cluster.name), k8s_cluster
// and kubernetes_cluster (VictoriaMetrics', Thanos' and Mimir's common external labels), cluster_id,
// env and environment (one store for staging and prod), and region (one store for several
// regions' clusters). Series of one workload whose values of one of them differ, or that carry it on
// some series and not on others (one cluster's collector adds it, the other's does not), come from
// different clusters (staging and prod with the same namespace and Deployment names), which must
// never be summed.
var ClusterLabels = []string{"cluster", "cluster_name", "k8s_cluster_name", "k8s_cluster", "kubernetes_cluster",
	"cluster_id", "env", "environment", "region"}

// sourceLabels are the labels a scrape adds that say which scrape a sample came from, not which
// requests it counts: the job (a scrape config, a PodMonitor), the target's port (Istio's merged
// metrics on :15020 and Envoy's on :15090 hold the same counters), prometheus-operator's endpoint
// (the port's name), and the labels that tell the replicas of a highly available Prometheus apart
// when they write to one store.
var sourceLabels = []string{"job", "endpoint", "prometheus", "prometheus_replica", "replica"}

// MixedClustersError is series of the versions that come from several clusters: summing them would
// judge one cluster's blue with another's. Values are the label's values; Unlabelled is set when some
// series do not carry the label at all (a cluster of its own).
type MixedClustersError struct {
	Label      string
	Values     []string
	Unlabelled bool
}

func (e *MixedClustersError) Error() string {
	quoted := make([]string, len(e.Values))
	for i, v := range e.Values {
		quoted[i] = strconv.Quote(v)
	}
	n, list, also := len(e.Values), strings.Join(quoted, ", "), ""
	if e.Unlabelled {
		n++
		list += ", and series without it"
		also = fmt.Sprintf(", or %s=\"\" for the series without it", e.Label)
	}
	return fmt.Sprintf("the series come from %d clusters (label %s: %s) and would be summed: choose one with "+
		"prometheus-labels (the task's prometheusLabels), e.g. %s=%s%s, or %s=~\".*\" if they are one cluster",
		n, e.Label, list, e.Label, quoted[0], also, e.Label)
}

// oneCluster fails with *MixedClustersError when the series of ms carry more than one non-empty
// value of one of ClusterLabels, or when one matrix of ms has series with one of them and series
// without it. Each matrix is one metric of both versions (requests, durations, the gateway's
// unserved requests), so a label only the sidecars' series carry is no mix. Labels in chosen are not
// checked: the person chose their values with a regular expression (regexMatched).
func oneCluster(chosen []string, ms ...model.Matrix) error {
	for _, label := range ClusterLabels {
		if slices.Contains(chosen, label) {
			continue
		}
		var values []string
		unlabelled := false
		for _, m := range ms {
			with, without := false, false
			for _, s := range m {
				v := string(s.Metric[model.LabelName(label)])
				with, without = with || v != "", without || v == ""
				if v != "" && !slices.Contains(values, v) {
					values = append(values, v)
				}
			}
			unlabelled = unlabelled || with && without
		}
		if len(values) > 1 || unlabelled {
			slices.Sort(values)
			return &MixedClustersError{Label: label, Values: values, Unlabelled: unlabelled}
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

// istioLabels are the labels of Istio's standard metrics besides source_* and destination_* ones
// (istio.io's "Istio Standard Metrics" reference), and the histogram's le: what tells one of a
// sidecar's counters from another.
var istioLabels = map[model.LabelName]bool{"reporter": true, "request_protocol": true, "response_code": true,
	"grpc_response_status": true, "response_flags": true, "connection_security_policy": true, "le": true}

// podLabels are the labels scrape configs put a pod's name in (prometheus-operator's pod, the
// kubernetes-pods job's kubernetes_pod_name, older pod_name).
var podLabels = []model.LabelName{"pod", "kubernetes_pod_name", "pod_name"}

// targetOf is the pod a series was scraped from: its instance's host (the pod's IP, the same on
// :15020 and :15090), else its pod label, else "" (unknown).
func targetOf(s *model.SampleStream) string {
	if inst := string(s.Metric["instance"]); inst != "" {
		if host, _, err := net.SplitHostPort(inst); err == nil {
			return "instance " + host
		}
		return "instance " + inst
	}
	return podOf(s)
}

func podOf(s *model.SampleStream) string {
	for _, l := range podLabels {
		if v := s.Metric[l]; v != "" {
			return "pod " + string(v)
		}
	}
	return ""
}

// countersOf is which counters a series reads: its target with its cluster labels and Istio's own
// labels; for a series of no known target, every label but those a scrape adds (sourceLabels,
// instance). Series of one value are the same pod's counters read by several scrapes.
func countersOf(s *model.SampleStream) string {
	target := targetOf(s)
	parts := []string{target}
	for name, v := range s.Metric {
		own := istioLabel(name) || slices.Contains(ClusterLabels, string(name))
		if target == "" {
			own = name != "instance" && !slices.Contains(sourceLabels, string(name))
		}
		if own {
			parts = append(parts, string(name)+"="+strconv.Quote(string(v)))
		}
	}
	slices.Sort(parts[1:])
	return strings.Join(parts, ",")
}

func istioLabel(name model.LabelName) bool {
	return istioLabels[name] || strings.HasPrefix(string(name), "source_") || strings.HasPrefix(string(name), "destination_")
}

// oneSource counts once what several scrapes read of the same pod's counters (two jobs, the two
// ports of one sidecar, two replicas of a highly available Prometheus): summed, every request would
// count once per scrape, and the intervals would be too narrow for the confidence promised. The
// same counters are those of one countersOf: series of different pods (a sharded Prometheus's
// shards scrape different pods; a pod IP reused by a later pod, told apart by its pod label) are
// always summed. Of the same counters it keeps the series that grew most in the window (the one that
// missed fewest scrapes), the first in order on a tie, and says so in a warning naming what.
func oneSource(m model.Matrix, start time.Time, what string) (model.Matrix, string) {
	groups := map[string][]int{}
	for i, s := range m {
		k := countersOf(s)
		groups[k] = append(groups[k], i)
	}
	drop := map[int]bool{}
	var scrapes []string
	most := 0
	for _, idx := range groups {
		for _, same := range byPod(m, idx) {
			if len(same) < 2 {
				continue
			}
			most = max(most, len(same))
			best, grew := same[0], -1.0
			for _, i := range same {
				if n := increase(m[i].Values, start, true); n > grew {
					best, grew = i, n
				}
				if src := sourceOf(m[i]); !slices.Contains(scrapes, src) {
					scrapes = append(scrapes, src)
				}
			}
			for _, i := range same {
				drop[i] = i != best
			}
		}
	}
	if most == 0 {
		return m, ""
	}
	kept := make(model.Matrix, 0, len(m))
	for i, s := range m {
		if !drop[i] {
			kept = append(kept, s)
		}
	}
	slices.Sort(scrapes)
	return kept, fmt.Sprintf("%s: the same pods' counters are reported by %d scrapes (%s): each pod's counted once, "+
		"from the scrape that read most", what, most, strings.Join(scrapes, "; "))
}

// byPod splits the series idx of m (one countersOf) by their pod label when they carry different
// ones (a pod's IP reused by a later pod); series without one go with the only pod named, or alone.
func byPod(m model.Matrix, idx []int) [][]int {
	var pods []string
	for _, i := range idx {
		if p := podOf(m[i]); p != "" && !slices.Contains(pods, p) {
			pods = append(pods, p)
		}
	}
	if len(pods) < 2 {
		return [][]int{idx}
	}
	split := map[string][]int{}
	var keys []string
	for _, i := range idx {
		p := podOf(m[i])
		if _, ok := split[p]; !ok {
			keys = append(keys, p)
		}
		split[p] = append(split[p], i)
	}
	out := make([][]int, 0, len(keys))
	for _, k := range keys {
		out = append(out, split[k])
	}
	return out
}

// regexMatched are the labels of matchers (ParseMatchers' result) that choose their values with a
// regular expression (=~): a person who writes env=~"prod|" or cluster=~".*" means to sum what it
// selects.
func regexMatched(matchers []string) []string {
	var out []string
	for _, m := range matchers {
		if name, rest, ok := strings.Cut(m, "="); ok && strings.HasPrefix(rest, "~") {
			out = append(out, strings.TrimSpace(name))
		}
	}
	return out
}
