package memory

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// listKeys are the lists merged item by item, by the key fields named, at a path of an object of a
// resource ("[]" stands for any item of a list). They are the associative lists
// (x-kubernetes-list-type: map) of the built-in types mlcanary writes, with the keys the API
// server's own OpenAPI gives them (k8s.io/api/core/v1 and apps/v1, +listType=map /
// +patchMergeKey markers, read by server-side apply through structured-merge-diff). Every other
// list is atomic, replaced whole by the list applied: args, command, tolerations, a Service's
// selector values, and every list of Istio's CRDs (VirtualService hosts, gateways, http, route;
// Gateway servers), whose schemas carry no list-type, which a CRD's structural schema treats as
// atomic (apiextensions "x-kubernetes-list-type", default atomic).
var listKeys = map[schema.GroupVersionResource]map[string][]string{
	kube.Deployments: podListKeys("spec.template.spec"),
	kube.Services: {
		"spec.ports": {"port", "protocol"},
	},
}

func podListKeys(pod string) map[string][]string {
	out := map[string][]string{
		pod + ".volumes":          {"name"},
		pod + ".imagePullSecrets": {"name"},
	}
	for _, kind := range []string{"containers", "initContainers", "ephemeralContainers"} {
		c := pod + "." + kind
		out[c] = []string{"name"}
		out[c+"[].ports"] = []string{"containerPort", "protocol"}
		out[c+"[].env"] = []string{"name"}
		out[c+"[].volumeMounts"] = []string{"mountPath"}
	}
	return out
}

// defaults are key fields the server defaults before it merges, so an item sent without them
// matches the stored one (a container port's and a Service port's protocol default to TCP).
var defaults = map[string]any{"protocol": "TCP"}

// merge returns live with applied merged in as a forced server-side apply by the one manager
// that sent prev before (nil: none) does, others being what other managers set (their seeds):
//   - a field of applied is set: maps merged key by key, the lists of listKeys item by item, any
//     other value replaced whole; a null in applied is no field;
//   - a field prev set that applied no longer sets is removed, as the manager's ownership of it
//     ends — unless others set it too (shared: it stays);
//   - a field of others applied with another value is taken over (force): others lose it, so
//     applied's next omission removes it.
//
// live and applied are not changed; others is (the caller keeps it only when the apply is stored).
func merge(gvr schema.GroupVersionResource, live, applied, prev, others map[string]any) map[string]any {
	l, _ := deepCopy(live).(map[string]any)
	return mergeMap(listKeys[gvr], "", l, applied, prev, others)
}

func mergeMap(keys map[string][]string, path string, live, applied, prev, others map[string]any) map[string]any {
	if live == nil {
		live = map[string]any{}
	}
	for k, pv := range prev {
		if applied[k] != nil || pv == nil {
			continue
		}
		p := join(path, k)
		o, shared := others[k]
		switch pv := pv.(type) {
		case map[string]any:
			l, _ := live[k].(map[string]any)
			om, _ := o.(map[string]any)
			if !shared || l == nil {
				delete(live, k)
				continue
			}
			live[k] = mergeMap(keys, p, l, nil, pv, om)
		case []any:
			key, keyed := keys[p]
			l, _ := live[k].([]any)
			ol, _ := o.([]any)
			switch {
			case !shared:
				delete(live, k)
			case keyed:
				live[k] = mergeList(keys, p, key, l, nil, pv, ol)
			}
		default:
			if !shared {
				delete(live, k)
			}
		}
	}
	for k, v := range applied {
		if v == nil {
			continue
		}
		p := join(path, k)
		switch v := v.(type) {
		case map[string]any:
			l, _ := live[k].(map[string]any)
			pm, _ := prev[k].(map[string]any)
			om, _ := others[k].(map[string]any)
			live[k] = mergeMap(keys, p, l, v, pm, om)
			continue
		case []any:
			if key, ok := keys[p]; ok {
				l, _ := live[k].([]any)
				pl, _ := prev[k].([]any)
				ol, _ := others[k].([]any)
				live[k] = mergeList(keys, p, key, l, v, pl, ol)
				continue
			}
		}
		if o, ok := others[k]; ok && !reflect.DeepEqual(o, v) {
			delete(others, k) // taken over
		}
		live[k] = deepCopy(v)
	}
	return live
}

// mergeList merges an associative list: items of live keep their place, an item applied is merged
// into the live item of the same key or appended, and an item prev applied whose key applied no
// longer holds is removed, unless others hold it too (then only prev's own fields of it go).
func mergeList(keys map[string][]string, path string, key []string, live, applied, prev, others []any) []any {
	byKey := func(items []any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, it := range items {
			out[itemKey(it, key)], _ = it.(map[string]any)
		}
		return out
	}
	sent, prevBy, othersBy := byKey(applied), byKey(prev), byKey(others)
	var out []any
	done := map[string]bool{}
	for _, l := range live {
		k := itemKey(l, key)
		lm, _ := l.(map[string]any)
		_, wasPrev := prevBy[k]
		om, isOthers := othersBy[k]
		switch a, isSent := sent[k]; {
		case isSent:
			out = append(out, mergeMap(keys, path+"[]", lm, a, prevBy[k], om))
		case wasPrev && !isOthers:
			continue // prev's alone: removed
		case wasPrev:
			out = append(out, mergeMap(keys, path+"[]", lm, nil, prevBy[k], om))
		default:
			out = append(out, l)
		}
		done[k] = true
	}
	for _, a := range applied {
		if k := itemKey(a, key); !done[k] {
			am, _ := a.(map[string]any)
			out = append(out, mergeMap(keys, path+"[]", nil, am, prevBy[k], othersBy[k]))
			done[k] = true
		}
	}
	return out
}

func itemKey(item any, key []string) string {
	m, _ := item.(map[string]any)
	parts := make([]string, len(key))
	for i, k := range key {
		v, ok := m[k]
		if !ok {
			v = defaults[k]
		}
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, "\x00")
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
