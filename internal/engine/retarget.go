package engine

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/lazyregexp"
	"github.com/mlcanary/mlcanary/internal/secret"
)

// A request-driven autoscaler names the workload it measures: an Object metric of the version's
// Service, an External metric or a KEDA query selecting destination_workload="model-green", a
// selector on the version label. A copy made verbatim for blue would scale blue on green's load —
// and shrink blue, then carrying every request, to its minimum once green's load is gone (break-it
// review of #9, G5). So the copy names blue's objects where green's autoscaler names green's, and
// Blue_Green's hand-over names green's again (README, "Autoscaling").

// workload is what an autoscaler may name of one version: its Deployment (also the prefix of its
// pods' names), its Service (also the first label of the Service's host names) and the value of its
// version labels.
type workload struct{ deployment, service, version string }

func (l *liveState) workloadOf(v config.Version) workload {
	n := l.cfg.Objects[v]
	return workload{deployment: n.Deployment, service: n.Service, version: string(v)}
}

// retargeter rewrites, in the spec of a copy of one version's autoscaler, every reference to that
// version (from) into one to the other (to), and records what it could not rewrite.
type retargeter struct {
	from, to workload
	where    string // the metric or trigger being rewritten, for problems
	rewrote  int
	problems []string
}

// retarget rewrites spec, the copy of an autoscaler of kind gvr made from from's for to, in place:
// in every HorizontalPodAutoscaler metric (Object's describedObject, every metric's name and
// selector) and every KEDA trigger's metadata (queries, selectors, names), a string that names
// from's Deployment or Service as a whole name (model-green, model-svc-green.ns.svc.cluster.local,
// the pod prefix in pod=~"model-green-.*") names to's instead, and the value from.version of a
// version label (a key ending in version or revision: version, model_version, destination_version,
// destination_canonical_revision, service.istio.io/canonical-revision) becomes to.version — in a
// selector's matchLabels and matchExpressions, and in a query's or selector string's label matcher
// (destination_version="green", model_version=green). A string that names both versions already
// measures both and is kept. It returns how many strings it rewrote and, one phrase each, the strings
// that still name from after the rewrite ("metric 2 (External istio_requests_total) names green:
// model-green2"): a reference it cannot tell how to rewrite, which a copy must not keep.
func retarget(gvr schema.GroupVersionResource, spec map[string]any, from, to workload) (rewrote int, problems []string) {
	r := &retargeter{from: from, to: to}
	if gvr == scaledObjects {
		triggers, _ := spec["triggers"].([]any)
		for i, t := range triggers {
			tm, ok := t.(map[string]any)
			if !ok {
				continue
			}
			md, _ := tm["metadata"].(map[string]any)
			for _, k := range sortedKeys(md) {
				s, ok := md[k].(string)
				if !ok {
					continue
				}
				r.where = fmt.Sprintf("trigger %d (%v) metadata.%s", i+1, tm["type"], k)
				md[k] = r.value(k, s)
			}
		}
		return r.rewrote, r.problems
	}
	metrics, _ := spec["metrics"].([]any)
	for i, m := range metrics {
		mm, ok := m.(map[string]any)
		if !ok {
			continue
		}
		r.where = fmt.Sprintf("metric %d (%v%s)", i+1, mm["type"], metricName(mm))
		for k, v := range mm {
			if k != "type" {
				mm[k] = r.walk(v, "")
			}
		}
	}
	return r.rewrote, r.problems
}

// metricName is " NAME" for an HPA metric whose metric.name is NAME (Object, Pods, External), or
// the resource's name.
func metricName(m map[string]any) string {
	for _, k := range []string{"object", "pods", "external", "resource", "containerResource"} {
		src, _ := m[k].(map[string]any)
		if n, ok := src["name"].(string); ok {
			return " " + n
		}
		if mt, ok := src["metric"].(map[string]any); ok {
			if n, ok := mt["name"].(string); ok {
				return " " + n
			}
		}
	}
	return ""
}

// walk rewrites every string under x; key is the map key x is the value of, which for a selector's
// matchLabels is the label's key. A matchExpressions entry's values are read under its key.
func (r *retargeter) walk(x any, key string) any {
	switch t := x.(type) {
	case map[string]any:
		label, isExpr := t["key"].(string)
		for k, v := range t {
			if vals, ok := v.([]any); ok && isExpr && k == "values" {
				t[k] = r.values(label, vals)
				continue
			}
			t[k] = r.walk(v, k)
		}
	case []any:
		for i := range t {
			t[i] = r.walk(t[i], key)
		}
	case string:
		return r.value(key, t)
	}
	return x
}

// values rewrites a matchExpressions entry's values, unless they name both versions (In
// [model-green, model-blue] measures both already).
func (r *retargeter) values(label string, vals []any) []any {
	var all []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			all = append(all, s)
		}
	}
	joined := strings.Join(all, " ")
	if mentions(joined, r.from) && mentions(joined, r.to) {
		return vals
	}
	for i := range vals {
		vals[i] = r.walk(vals[i], label)
	}
	return vals
}

// value rewrites one string found under key (see retarget).
func (r *retargeter) value(key, s string) string {
	if !mentions(s, r.from) || mentions(s, r.to) {
		return s
	}
	out := s
	if versionKey(key) && out == r.from.version {
		out = r.to.version
	}
	out = replaceName(out, r.from.deployment, r.to.deployment)
	if r.from.service != r.from.deployment {
		out = replaceName(out, r.from.service, r.to.service)
	}
	out = matcher.ReplaceAllStringFunc(out, func(m string) string {
		g := matcher.FindStringSubmatch(m)
		if !versionKey(g[1]) || g[4] != r.from.version || g[3] != g[5] {
			return m
		}
		return g[1] + g[2] + g[3] + r.to.version + g[5]
	})
	if out != s {
		r.rewrote++
	}
	if mentions(out, r.from) {
		what := token(out, r.from)
		if secret.SensitiveKey(key) {
			what = "(value not shown)"
		}
		r.problems = append(r.problems, fmt.Sprintf("%s names %s: %s", r.where, r.from.version, what))
	}
	return out
}

// matcher is a label matcher in a query or a selector string: key, operator (PromQL's =, !=, =~,
// !~, a label selector's == too), an optional quote, the value, the closing quote.
var matcher = lazyregexp.New("([A-Za-z_][A-Za-z0-9_./-]*)(\\s*(?:==|!=|=~|!~|=)\\s*)([\"'`]?)([A-Za-z0-9_.-]+)([\"'`]?)")

// versionKey reports whether a label key holds a version's name: version, model_version,
// destination_version, destination_canonical_revision, service.istio.io/canonical-revision.
func versionKey(key string) bool {
	k := strings.ToLower(key)
	return strings.HasSuffix(k, "version") || strings.HasSuffix(k, "revision")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
