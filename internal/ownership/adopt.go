package ownership

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Adopted reports whether live exists and was not created by mlcanary: mlcanary sets its
// config.ManagedByLabel only on objects it creates, and never adds it to one it adopts, so the label
// records which objects are wholly its own.
func Adopted(live *unstructured.Unstructured) bool {
	return live != nil && live.GetLabels()[config.ManagedByLabel] != config.ManagedBy
}

// Adopt narrows desired (a rendered object) to what mlcanary owns on live when live was created by
// someone else (Adopted); it changes nothing otherwise. On every adopted object the config.ManagedByLabel
// is not set and no label live already has with another value is rewritten. An adopted Service is
// not written at all (skip): its selector and ports are its owner's, and package plan refuses a
// stage they do not fit. An adopted Deployment gets only the scoring container's image, the
// replicas and the image pull secret: never its selector (immutable), its pod labels or its ports.
func Adopt(desired, live *unstructured.Unstructured) (skip bool) {
	if !Adopted(live) {
		return false
	}
	labels := desired.GetLabels()
	delete(labels, config.ManagedByLabel)
	for k, v := range labels {
		if have, ok := live.GetLabels()[k]; ok && have != v {
			delete(labels, k)
		}
	}
	desired.SetLabels(labels)
	switch desired.GetKind() {
	case "Service":
		return true
	case "Deployment":
		adoptDeployment(desired)
	}
	return false
}

// adoptDeployment keeps, of a rendered Deployment, the replicas, the containers' names and images
// and the image pull secrets.
func adoptDeployment(d *unstructured.Unstructured) {
	spec, _, _ := unstructured.NestedMap(d.Object, "spec")
	containers, _, _ := unstructured.NestedSlice(spec, "template", "spec", "containers")
	var kept []any
	for _, c := range containers {
		m := c.(map[string]any)
		kept = append(kept, map[string]any{"name": m["name"], "image": m["image"]})
	}
	podSpec := map[string]any{"containers": kept}
	if s, found, _ := unstructured.NestedSlice(spec, "template", "spec", "imagePullSecrets"); found {
		podSpec["imagePullSecrets"] = s
	}
	out := map[string]any{"template": map[string]any{"spec": podSpec}}
	if r, found := spec["replicas"]; found {
		out["replicas"] = r
	}
	d.Object["spec"] = out
}
