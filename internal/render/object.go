package render

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Unstructured converts a typed object into the form the dynamic client sends, dropping the
// fields a desired object must not carry (status, a null creationTimestamp).
func Unstructured(obj any) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", obj, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", obj, err)
	}
	delete(u.Object, "status")
	if md, ok := u.Object["metadata"].(map[string]any); ok && md["creationTimestamp"] == nil {
		delete(md, "creationTimestamp")
	}
	if tmpl, found, _ := unstructured.NestedMap(u.Object, "spec", "template", "metadata"); found && tmpl["creationTimestamp"] == nil {
		delete(tmpl, "creationTimestamp")
		_ = unstructured.SetNestedMap(u.Object, tmpl, "spec", "template", "metadata")
	}
	return u, nil
}
