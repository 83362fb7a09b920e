package ownership

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestManager: who manages an object besides mlcanary, from Helm's release annotation and the
// managedFields' managers (mlcanary's own and status writers such as istiod left out).
func TestManager(t *testing.T) {
	entry := func(m, sub string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: m, Subresource: sub, Operation: metav1.ManagedFieldsOperationApply}
	}
	for _, tc := range []struct {
		name    string
		release string
		entries []metav1.ManagedFieldsEntry
		want    string
	}{
		{"nobody", "", nil, ""},
		{"mlcanary only", "", []metav1.ManagedFieldsEntry{entry("mlcanary", "")}, ""},
		{"helm release and manager", "qa", []metav1.ManagedFieldsEntry{entry("helm", ""), entry("mlcanary", "")}, "Helm release qa, field manager helm"},
		{"release alone", "qa", nil, "Helm release qa"},
		{"two managers once each, status writer left out", "", []metav1.ManagedFieldsEntry{
			entry("kubectl-client-side-apply", ""), entry("argocd-controller", ""), entry("kubectl-client-side-apply", ""), entry("pilot-discovery", "status"),
		}, "field managers kubectl-client-side-apply, argocd-controller"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{}}
			if tc.release != "" {
				u.SetAnnotations(map[string]string{"meta.helm.sh/release-name": tc.release})
			}
			u.SetManagedFields(tc.entries)
			if got := Manager(u); got != tc.want {
				t.Errorf("Manager = %q, want %q", got, tc.want)
			}
		})
	}
	if Manager(nil) != "" {
		t.Error("Manager(nil) is not empty")
	}
}
