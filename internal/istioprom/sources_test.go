package istioprom

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

// TestParseMatchers: label matchers as people type them become PromQL; a matcher on a label mlcanary
// selects or counts by, or one that does not parse, is refused with why.
func TestParseMatchers(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                     {},
		`cluster="aks-prod"`:                   {`cluster="aks-prod"`},
		` cluster = aks-prod `:                 {`cluster="aks-prod"`},
		`cluster='aks-prod', region!~"west.*"`: {`cluster="aks-prod"`, `region!~"west.*"`},
		"cluster=`a\\b`":                       {`cluster="a\\b"`},
		`cluster!="a,b",prometheus=~"x|y"`:     {`cluster!="a,b"`, `prometheus=~"x|y"`},
	} {
		got, err := ParseMatchers(in)
		if err != nil || !slices.Equal(got, want) && len(want) > 0 {
			t.Errorf("%q: %q (%v), want %q", in, got, err, want)
		}
	}
	for in, why := range map[string]string{
		`reporter="source"`:      "selects or counts by",
		`destination_workload=x`: "selects or counts by",
		`__name__="x"`:           "selects or counts by",
		`cluster`:                "is not a label matcher",
		`cluster=`:               "missing",
		`cluster="aks`:           "no closing quote",
		`cluster=aks prod`:       "must be quoted",
		`cluster=~"(unclosed"`:   "regular expression",
		`cluster="a" region="b"`: "separated by commas",
		`9cluster="a"`:           "is not a label matcher",
	} {
		if _, err := ParseMatchers(in); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want %q", in, err, why)
		}
	}
}

// TestOneClusterAndOneSource: several clusters' series are refused, naming the label and values;
// the same counters from several scrapes are kept from one, the one that grew most.
func TestOneClusterAndOneSource(t *testing.T) {
	s := func(labels map[string]string, from, to float64) *model.SampleStream {
		return series(labels, at(0, from), at(60, to), at(90, to+1))
	}
	var mixed *MixedClustersError
	err := oneCluster(nil, model.Matrix{s(map[string]string{"cluster": "b"}, 0, 1)}, model.Matrix{s(map[string]string{"cluster": "a"}, 0, 1), s(nil, 0, 1)})
	if !errors.As(err, &mixed) || mixed.Label != "cluster" || !slices.Equal(mixed.Values, []string{"a", "b"}) || !mixed.Unlabelled {
		t.Errorf("two clusters: %v", err)
	}
	// One cluster labelled, the other not (its collector adds no label): a mix, whatever the label.
	for _, l := range ClusterLabels {
		err := oneCluster(nil, model.Matrix{s(map[string]string{l: "aks-prod", "job": "a"}, 0, 1), s(map[string]string{"job": "b"}, 0, 1)})
		if !errors.As(err, &mixed) || mixed.Label != l || !mixed.Unlabelled ||
			!strings.Contains(err.Error(), `(label `+l+`: "aks-prod", and series without it)`) || !strings.Contains(err.Error(), l+`=""`) {
			t.Errorf("%s on some series only: %v", l, err)
		}
	}
	// Chosen by a regular expression in prometheus-labels: summed as the person asked.
	mix := model.Matrix{s(map[string]string{"env": "prod"}, 0, 1), s(nil, 0, 1)}
	if err := oneCluster(regexMatched([]string{`env=~"prod|"`, `cluster="a"`}), mix); err != nil {
		t.Errorf("env chosen by env=~: %v", err)
	}
	if err := oneCluster(regexMatched([]string{`env!~"dev"`, `env="prod"`}), mix); err == nil {
		t.Error("env not chosen by a regular expression, not refused")
	}
	// A label on the sidecars' series but not on the gateway's (another metric) is no mix.
	if err := oneCluster(nil, model.Matrix{s(map[string]string{"env": "prod"}, 0, 1)}, model.Matrix{s(nil, 0, 1)}); err != nil {
		t.Errorf("env on one metric's series only: %v", err)
	}
	if err := oneCluster(nil, model.Matrix{s(map[string]string{"cluster": "a", "source_cluster": "x"}, 0, 1), s(map[string]string{"cluster": "a", "source_cluster": "y"}, 0, 1)}); err != nil {
		t.Errorf("one cluster, Istio's source_cluster differing: %v", err)
	}
	m := model.Matrix{
		s(map[string]string{"job": "pods", "instance": "10.0.0.5:15020", "pod": "a"}, 10, 20),
		s(map[string]string{"job": "pods", "instance": "10.0.0.6:15020", "pod": "b"}, 10, 20),
		s(map[string]string{"job": "envoy", "instance": "10.0.0.5:15090", "pod": "a"}, 10, 20),
	}
	m[2].Values[2].Value = 25 // Envoy's port read more
	got, warning := oneSource(m, t0.Add(60e9), "blue's requests")
	if len(got) != 2 || got[0].Metric["pod"] != "b" || got[1].Metric["job"] != "envoy" ||
		!strings.Contains(warning, `blue's requests: the same pods' counters are reported by 2 scrapes (job="envoy",port 15090; job="pods",port 15020)`) {
		t.Errorf("kept %v: %s", got, warning)
	}
	if got, warning := oneSource(m[:2], t0, "x"); len(got) != 2 || warning != "" {
		t.Errorf("two pods of one scrape: %v, %q", got, warning)
	}
	// Shards of a prometheus-operator Prometheus scrape different pods: summed, however their
	// prometheus_replica differs; two replicas of the same pod's counters are counted once.
	shards := model.Matrix{
		s(map[string]string{"job": "pods", "prometheus_replica": "prometheus-k8s-0", "instance": "10.0.0.5:15020", "pod": "a"}, 10, 20),
		s(map[string]string{"job": "pods", "prometheus_replica": "prometheus-k8s-shard-1-0", "instance": "10.0.0.6:15020", "pod": "b"}, 10, 20),
	}
	if got, warning := oneSource(shards, t0, "x"); len(got) != 2 || warning != "" {
		t.Errorf("two shards' pods: %v, %q", got, warning)
	}
	replicas := model.Matrix{s(map[string]string{"prometheus_replica": "p-0", "response_code": "200"}, 10, 20),
		s(map[string]string{"prometheus_replica": "p-1", "response_code": "200"}, 10, 20),
		s(map[string]string{"prometheus_replica": "p-1", "response_code": "503"}, 1, 2)}
	if got, warning := oneSource(replicas, t0, "x"); len(got) != 2 || !strings.Contains(warning, "2 scrapes") {
		t.Errorf("two replicas without a target: %v, %q", got, warning)
	}
	// A pod's IP reused by a later pod: told apart by the pod label, summed.
	reused := model.Matrix{s(map[string]string{"instance": "10.0.0.5:15020", "pod": "a"}, 10, 20),
		s(map[string]string{"instance": "10.0.0.5:15020", "pod": "c"}, 10, 20)}
	if got, warning := oneSource(reused, t0, "x"); len(got) != 2 || warning != "" {
		t.Errorf("a reused pod IP: %v, %q", got, warning)
	}
	// Two clusters are never two scrapes.
	clusters := model.Matrix{s(map[string]string{"job": "a", "cluster": "aks-prod"}, 10, 20), s(map[string]string{"job": "b"}, 10, 20)}
	if got, warning := oneSource(clusters, t0, "x"); len(got) != 2 || warning != "" {
		t.Errorf("two clusters: %v, %q", got, warning)
	}
}

// TestBaselines: a series without a sample at or before the window's start counts from 0 when its
// job was scraped before the window, or when its first sample reads no more than the window could
// hold; from its first sample (with a warning) when it reads lifetime counters, except series that
// appear at a later scrape (born since).
func TestBaselines(t *testing.T) {
	start := t0.Add(60e9)
	job := func(j, code string) map[string]string { return map[string]string{"job": j, "response_code": code} }
	pod := func(j, p string) map[string]string {
		return map[string]string{"job": j, "pod": p, "response_code": "200"}
	}
	for _, c := range []struct {
		name    string
		m       model.Matrix
		want    []float64
		resumed bool
	}{
		{"job scraped before the window: a new series counts from 0",
			model.Matrix{series(job("a", "200"), at(30, 100), at(90, 130)), series(job("a", "503"), at(90, 7), at(120, 9))}, []float64{30, 9}, false},
		{"fresh counters first scraped in the window count from 0",
			model.Matrix{series(job("b", "200"), at(90, 30), at(120, 60), at(150, 90))}, []float64{90}, false},
		{"a burst before the first scrape, then quiet, is fresh",
			model.Matrix{series(job("b", "503"), at(90, 15), at(120, 15), at(150, 15))}, []float64{15}, false},
		{"lifetime counters count from the first sample; a series born after it from 0",
			model.Matrix{series(job("c", "200"), at(90, 1e6), at(120, 1e6+30), at(150, 1e6+60)), series(job("c", "503"), at(150, 4))}, []float64{60, 4}, true},
		{"one pod of a job scraped before the window: another pod missed through the change counts from its first sample",
			model.Matrix{series(pod("d", "a"), at(30, 100), at(90, 130)), series(pod("d", "b"), at(90, 1e6), at(120, 1e6+30)),
				series(pod("d", "c"), at(90, 30), at(120, 60))}, []float64{30, 30, 60}, true},
	} {
		b, warnings := newBaselines(start, c.m)
		for i, s := range c.m {
			if got := b.increase(s); got != c.want[i] {
				t.Errorf("%s: series %d counts %g, want %g", c.name, i, got, c.want[i])
			}
		}
		if (len(warnings) == 1) != c.resumed || c.resumed && !strings.Contains(warnings[0], `of job "c" have no sample in the 5m0s before`) &&
			!strings.Contains(warnings[0], `of job "d" from pod b have no sample in the 5m0s before`) {
			t.Errorf("%s: warnings %q", c.name, warnings)
		}
	}
}
