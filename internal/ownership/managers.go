package ownership

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// Manager says who manages obj besides mlcanary, for a refusal that must tell the platform
// engineer whom to ask, e.g. "Helm release qa, field manager helm" or "field managers kubectl,
// argocd-controller"; "" when nobody else is known. The sources:
//
//   - Helm 3 marks what it installs with the annotation meta.helm.sh/release-name (and the label
//     app.kubernetes.io/managed-by: Helm; helm.sh/helm/v3/pkg/action/validate.go checks them before
//     it adopts an object), so the release is named from that annotation.
//   - metadata.managedFields lists the field managers that wrote the object (server-side apply,
//     "Field management", kubernetes.io/docs/reference/using-api/server-side-apply); entries of
//     the status subresource (istiod, controllers reporting) and mlcanary's own are left out.
func Manager(obj *unstructured.Unstructured) string {
	if obj == nil {
		return ""
	}
	var parts []string
	if release := obj.GetAnnotations()[helmReleaseAnnotation]; release != "" {
		parts = append(parts, "Helm release "+release)
	}
	var managers []string
	for _, m := range obj.GetManagedFields() {
		if m.Manager == "" || m.Manager == kube.FieldManager || m.Subresource != "" || slices.Contains(managers, m.Manager) {
			continue
		}
		managers = append(managers, m.Manager)
	}
	switch len(managers) {
	case 0:
	case 1:
		parts = append(parts, "field manager "+managers[0])
	default:
		parts = append(parts, "field managers "+strings.Join(managers, ", "))
	}
	return strings.Join(parts, ", ")
}
