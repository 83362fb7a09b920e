package ownership

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Helm's marks on what a release installed (https://helm.sh/docs/topics/charts/ "Standard
// Labels"; Helm 3 adopts an object only when it carries both annotations).
const (
	helmReleaseAnnotation   = "meta.helm.sh/release-name"
	helmNamespaceAnnotation = "meta.helm.sh/release-namespace"
)

// ManagerOf says who other than mlcanary manages live, for a sentence such as "left Deployment
// ns/model-blue (Helm release scoring) in place": "Helm release R" (R from meta.helm.sh/release-name,
// with its namespace when it is not live's), "managed by M" for another app.kubernetes.io/managed-by
// value, "not created by mlcanary" for an object without mlcanary's created-by mark
// (config.ManagedByLabel, which it sets only on objects it creates). It is "" for nil and for an
// object mlcanary created that no other tool claims: the only objects mlcanary deletes.
func ManagerOf(live *unstructured.Unstructured) string {
	if live == nil {
		return ""
	}
	ann := live.GetAnnotations()
	if r := ann[helmReleaseAnnotation]; r != "" {
		if ns := ann[helmNamespaceAnnotation]; ns != "" && ns != live.GetNamespace() {
			r = ns + "/" + r
		}
		return "Helm release " + r
	}
	switch m := live.GetLabels()[config.ManagedByLabel]; m {
	case config.ManagedBy:
		return ""
	case "":
		return "not created by mlcanary"
	default:
		return "managed by " + m
	}
}
