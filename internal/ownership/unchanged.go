package ownership

import (
	"encoding/json"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// LeaveUnchanged removes from desired — an Istio object as mlcanary will send it, merged and
// checked — every top-level spec field it does not change on an object someone else created
// (Adopted): one whose value equals live's and that another field manager owns. Istio's CRDs make
// lists atomic, so a server-side apply that sends a list, even unchanged, makes mlcanary a co-owner
// of the whole list and the owner's next apply that changes it without --force-conflicts fails
// with a conflict naming mlcanary ("Conflicts",
// https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts). Left out, the
// field stays with its owner: server-side apply removes a field an applier stops sending only when
// no other manager owns it, which is why a field only mlcanary owns is still sent. A Gateway whose
// server on --gateway-port is used as it is thus gets its annotations only, never spec.servers.
// desired changes; an empty spec is left out too.
func LeaveUnchanged(desired, live *unstructured.Unstructured) {
	if !Adopted(live) {
		return
	}
	spec, _, _ := unstructured.NestedMap(desired.Object, "spec")
	have, _, _ := unstructured.NestedMap(live.Object, "spec")
	others := ownedByOthers(live)
	for k, v := range spec {
		if others["f:"+k] && reflect.DeepEqual(v, have[k]) {
			delete(spec, k)
		}
	}
	if len(spec) == 0 {
		delete(desired.Object, "spec")
		return
	}
	_ = unstructured.SetNestedMap(desired.Object, spec, "spec")
}

// ownedByOthers is the set of spec fields ("f:servers") a manager other than mlcanary owns on
// live, from its managedFields (status and other subresources excluded).
func ownedByOthers(live *unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for _, m := range live.GetManagedFields() {
		if m.Manager == kube.FieldManager || m.Subresource != "" || m.FieldsV1 == nil {
			continue
		}
		var fields map[string]map[string]any
		if err := json.Unmarshal(m.FieldsV1.GetRawBytes(), &fields); err != nil {
			continue
		}
		for k := range fields["f:spec"] {
			out[k] = true
		}
	}
	return out
}
