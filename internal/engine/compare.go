package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Annotations mlcanary writes. HashAnnotation lets a re-run see that nothing it owns changed,
// including fields it stopped setting, so a stage that already holds writes nothing.
const (
	HashAnnotation      = "mlcanary.io/spec-hash"
	StageAnnotation     = "mlcanary.io/stage"
	WeightsAnnotation   = "mlcanary.io/weights"
	ImagesAnnotation    = "mlcanary.io/images"
	ChangedAtAnnotation = "mlcanary.io/changed-at"
	ChangedByAnnotation = "mlcanary.io/changed-by"
)

// volatile annotations change on every write and are left out of comparisons.
var volatile = []string{ChangedAtAnnotation, ChangedByAnnotation}

// stamp sets desired's hash annotation over everything but the volatile annotations.
func stamp(desired *unstructured.Unstructured) {
	c := desired.DeepCopy()
	ann := c.GetAnnotations()
	for _, k := range append(volatile, HashAnnotation) {
		delete(ann, k)
	}
	c.SetAnnotations(ann)
	data, _ := json.Marshal(c.Object) // maps marshal with sorted keys: stable
	sum := sha256.Sum256(data)
	ann = maps.Clone(desired.GetAnnotations())
	if ann == nil {
		ann = map[string]string{}
	}
	ann[HashAnnotation] = hex.EncodeToString(sum[:12])
	desired.SetAnnotations(ann)
}

// upToDate reports whether live already holds desired: same hash (nothing mlcanary set was
// added or dropped) and every field of desired present in live with the same value (no drift).
func upToDate(desired, live *unstructured.Unstructured) bool {
	if live == nil || live.GetAnnotations()[HashAnnotation] != desired.GetAnnotations()[HashAnnotation] {
		return false
	}
	d := desired.DeepCopy()
	ann := d.GetAnnotations()
	for _, k := range volatile {
		delete(ann, k)
	}
	d.SetAnnotations(ann)
	// Kubernetes' own types merge named lists (containers, ports) by key, so entries others added
	// may sit between mlcanary's; Istio's CRDs make every list atomic, so there lists must match.
	keyed := !strings.HasPrefix(desired.GetAPIVersion(), "networking.istio.io/")
	return subset(d.Object, live.Object, keyed)
}

// subset reports whether every value in want is present in got: maps key by key, lists element
// by element with equal length (or, when keyed, by name and in order), scalars equal.
func subset(want, got any, keyed bool) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, found := g[k]
			if !found && isEmpty(wv) {
				continue // the server drops empty values: {} and null are not drift
			}
			if !found || !subset(wv, gv, keyed) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false
		}
		if len(g) == len(w) {
			for i := range w {
				if !subset(w[i], g[i], keyed) {
					return false
				}
			}
			return true
		}
		return keyed && namedSubsequence(w, g)
	}
	return reflect.DeepEqual(want, got)
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// namedSubsequence matches lists whose elements are named (ports, containers) when live has
// entries someone else added: each desired element must appear in live, by name and in order; a
// skipped live element must be named too.
func namedSubsequence(want, got []any) bool {
	j := 0
	for _, w := range want {
		name := nameOf(w)
		if name == "" {
			return false
		}
		for j < len(got) && nameOf(got[j]) != name {
			if nameOf(got[j]) == "" {
				return false
			}
			j++
		}
		if j == len(got) || !subset(w, got[j], true) {
			return false
		}
		j++
	}
	return true
}

func nameOf(v any) string {
	m, _ := v.(map[string]any)
	name, _ := m["name"].(string)
	return name
}
