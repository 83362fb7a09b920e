package ownership

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestManagerOf: only an object carrying mlcanary's created-by mark and no other tool's is
// mlcanary's alone (""); every other names its manager.
func TestManagerOf(t *testing.T) {
	obj := func(labels, annotations map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{}}
		u.SetNamespace("ns")
		u.SetLabels(labels)
		u.SetAnnotations(annotations)
		return u
	}
	mine := map[string]string{"app.kubernetes.io/managed-by": "mlcanary"}
	helm := map[string]string{"meta.helm.sh/release-name": "scoring", "meta.helm.sh/release-namespace": "ns"}
	for _, c := range []struct {
		name string
		u    *unstructured.Unstructured
		want string
	}{
		{"absent", nil, ""},
		{"created by mlcanary", obj(mine, nil), ""},
		{"hand-made", obj(map[string]string{"app": "model"}, nil), "not created by mlcanary"},
		{"Helm labels and annotations", obj(map[string]string{"app.kubernetes.io/managed-by": "Helm"}, helm), "Helm release scoring"},
		{"Helm annotations on mlcanary's label", obj(mine, helm), "Helm release scoring"},
		{"Helm release of another namespace", obj(nil, map[string]string{"meta.helm.sh/release-name": "scoring", "meta.helm.sh/release-namespace": "platform"}), "Helm release platform/scoring"},
		{"Helm label only", obj(map[string]string{"app.kubernetes.io/managed-by": "Helm"}, nil), "managed by Helm"},
		{"another tool", obj(map[string]string{"app.kubernetes.io/managed-by": "kustomize"}, nil), "managed by kustomize"},
	} {
		if got := ManagerOf(c.u); got != c.want {
			t.Errorf("%s: ManagerOf = %q, want %q", c.name, got, c.want)
		}
	}
}
