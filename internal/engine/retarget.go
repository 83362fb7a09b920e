package engine

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
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
var matcher = regexp.MustCompile("([A-Za-z_][A-Za-z0-9_./-]*)(\\s*(?:==|!=|=~|!~|=)\\s*)([\"'`]?)([A-Za-z0-9_.-]+)([\"'`]?)")

// versionKey reports whether a label key holds a version's name: version, model_version,
// destination_version, destination_canonical_revision, service.istio.io/canonical-revision.
func versionKey(key string) bool {
	k := strings.ToLower(key)
	return strings.HasSuffix(k, "version") || strings.HasSuffix(k, "revision")
}

// nameByte is a byte a Kubernetes name (and a label value) may contain.
func nameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.'
}

// wholeName reports whether s[i:j] is a whole name: not the middle of a longer name, but it may be
// the first label of a host name (model-svc-green.ns.svc) or the prefix of its pods' names in a
// pattern (model-green-.*, model-green-[a-z0-9]+).
func wholeName(s string, i, j int) bool {
	if i > 0 && nameByte(s[i-1]) {
		return false
	}
	if j == len(s) || !nameByte(s[j]) || s[j] == '.' {
		return true
	}
	if s[j] != '-' {
		return false
	}
	return j+1 == len(s) || !lowerAlnum(s[j+1])
}

// lowerAlnum reports whether b may start the rest of a longer name after a dash.
func lowerAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// replaceName replaces every whole-name occurrence of from in s by to.
func replaceName(s, from, to string) string {
	if from == "" || from == to {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], from)
		if k < 0 {
			b.WriteString(s[i:])
			break
		}
		at := i + k
		b.WriteString(s[i:at])
		if wholeName(s, at, at+len(from)) {
			b.WriteString(to)
		} else {
			b.WriteString(from)
		}
		i = at + len(from)
	}
	return b.String()
}

// hasName reports whether s contains name as a whole name.
func hasName(s, name string) bool {
	for i := 0; name != "" && i < len(s); {
		k := strings.Index(s[i:], name)
		if k < 0 {
			return false
		}
		if wholeName(s, i+k, i+k+len(name)) {
			return true
		}
		i += k + 1
	}
	return false
}

// mentions reports whether s names w: its Deployment or Service as a whole name, or its version as
// a word (green in model-green2, green-requests, color="green").
func mentions(s string, w workload) bool {
	return hasName(s, w.deployment) || hasName(s, w.service) || wordAt(s, w.version) >= 0
}

// wordAt is the index of the first occurrence of v in s as a word (not next to a letter, digit or
// underscore), or -1.
func wordAt(s, v string) int {
	wordByte := func(b byte) bool { return nameByte(b) && b != '-' && b != '.' }
	for i := 0; v != "" && i < len(s); {
		k := strings.Index(s[i:], v)
		if k < 0 {
			return -1
		}
		at, end := i+k, i+k+len(v)
		if (at == 0 || !wordByte(s[at-1])) && (end == len(s) || !wordByte(s[end])) {
			return at
		}
		i = at + 1
	}
	return -1
}

// token is the name-like run of s around the first place it names w's version, for a problem's
// message (the word alone when that run is long).
func token(s string, w workload) string {
	at := wordAt(s, w.version)
	if at < 0 {
		return w.version
	}
	i, j := at, at+len(w.version)
	for i > 0 && (nameByte(s[i-1]) || s[i-1] == '/' || s[i-1] == ':') {
		i--
	}
	for j < len(s) && (nameByte(s[j]) || s[j] == '/' || s[j] == ':') {
		j++
	}
	if j-i > 80 {
		return w.version
	}
	return s[i:j]
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
