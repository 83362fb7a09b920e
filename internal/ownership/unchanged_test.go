package ownership

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestLeaveUnchanged: of an object someone else created, a spec field mlcanary sends with the
// value it has live and that another manager owns is left out of the body; one mlcanary changes,
// one only mlcanary owns, and every field of an object mlcanary created are sent.
func TestLeaveUnchanged(t *testing.T) {
	servers := []any{map[string]any{"port": map[string]any{"number": int64(80)}, "hosts": []any{"*"}}}
	obj := func(createdByUs bool, spec map[string]any, owners map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
		if createdByUs {
			u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "mlcanary"})
		}
		var mf []metav1.ManagedFieldsEntry
		for manager, fields := range owners {
			mf = append(mf, metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(fields)})
		}
		u.SetManagedFields(mf)
		return u
	}
	both := map[string]string{"kubectl": `{"f:spec":{"f:servers":{},"f:selector":{}}}`, "mlcanary": `{"f:spec":{"f:servers":{}}}`}
	for _, c := range []struct {
		name       string
		live       *unstructured.Unstructured
		desired    map[string]any
		wantFields []string // spec fields left in desired
	}{
		{"adopted, unchanged, owned by its owner too", obj(false, map[string]any{"servers": servers}, both), map[string]any{"servers": servers}, nil},
		{"adopted, changed", obj(false, map[string]any{"servers": servers}, both), map[string]any{"servers": append([]any{map[string]any{"port": map[string]any{"number": int64(8080)}}}, servers...)}, []string{"servers"}},
		{"adopted, only mlcanary owns it", obj(false, map[string]any{"servers": servers}, map[string]string{"mlcanary": `{"f:spec":{"f:servers":{}}}`}), map[string]any{"servers": servers}, []string{"servers"}},
		{"created by mlcanary", obj(true, map[string]any{"servers": servers}, both), map[string]any{"servers": servers}, []string{"servers"}},
		{"adopted, one of two", obj(false, map[string]any{"hosts": []any{"*"}, "http": []any{"a"}}, map[string]string{"kubectl": `{"f:spec":{"f:hosts":{},"f:http":{}}}`}),
			map[string]any{"hosts": []any{"*"}, "http": []any{"b"}}, []string{"http"}},
	} {
		d := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"annotations": map[string]any{"a": "b"}}, "spec": c.desired}}
		LeaveUnchanged(d, c.live)
		spec, _, _ := unstructured.NestedMap(d.Object, "spec")
		if len(spec) != len(c.wantFields) {
			t.Errorf("%s: spec sent %v, want fields %v", c.name, spec, c.wantFields)
		}
		for _, f := range c.wantFields {
			if _, ok := spec[f]; !ok {
				t.Errorf("%s: spec.%s left out", c.name, f)
			}
		}
		if d.GetAnnotations()["a"] != "b" {
			t.Errorf("%s: annotations changed", c.name)
		}
	}
}
