// Package manifest writes the objects a plan sends in the two shapes other tools read directly:
// a multi-document YAML stream (`kubectl apply -f -`, `istioctl analyze -`, kubeconform) and a JSON
// v1 List (kubectl's own `-o json` shape for several objects). Only the objects go into that
// stream; the human summary never shares it. Pure: no I/O beyond the writer it is given.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Formats lists the values a plan's -o takes for the objects alone.
const Formats = "yaml, json"

// Write writes bodies (each one object's JSON, as summary.Result.Manifests holds them) to w in
// format: "yaml" — one document per object, separated by `---` lines, nothing for no object;
// "json" — `{"apiVersion": "v1", "kind": "List", "items": [...]}`, indented, ending in a newline.
// The objects are the bodies without the fields the server populates (ServerFields), so a saved
// stream applies later without a Conflict on a stale resourceVersion; every other field and value
// is the body's. Any other format, or a body that is not a JSON object, is an error.
func Write(w io.Writer, bodies []json.RawMessage, format string) error {
	bodies, err := withoutServerFields(bodies)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch format {
	case "yaml":
		for i, body := range bodies {
			data, err := yaml.JSONToYAML(body)
			if err != nil {
				return fmt.Errorf("writing object %d as YAML: %w", i+1, err)
			}
			if i > 0 {
				buf.WriteString("---\n")
			}
			buf.Write(data)
		}
	case "json":
		list := struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Items      []json.RawMessage `json:"items"`
		}{"v1", "List", bodies}
		if list.Items == nil {
			list.Items = []json.RawMessage{}
		}
		data, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return fmt.Errorf("writing the objects as a JSON List: %w", err)
		}
		buf.Write(data)
		buf.WriteByte('\n')
	default:
		return fmt.Errorf("unknown manifest format %q (allowed: %s)", format, Formats)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// ServerFields are the fields (each a path of keys) of an object that the API server or a
// controller keeps as bookkeeping, which a client never sends in a desired state:
//
//   - metadata.uid, resourceVersion, generation, creationTimestamp, deletionTimestamp,
//     deletionGracePeriodSeconds: "Populated by the system. Read-only." (ObjectMeta,
//     k8s.io/apimachinery/pkg/apis/meta/v1/types.go); resourceVersion is the optimistic lock, so
//     a saved one is a Conflict as soon as anything else writes the object.
//   - metadata.selfLink: "Deprecated... Populated by the system. Read-only." (same file).
//   - metadata.managedFields: "maintained by the server" for server-side apply (same file).
//   - status: "the most recently observed status... populated by the system" (API conventions,
//     "Spec and Status", sig-architecture/api-conventions.md).
//   - the annotation kubectl.kubernetes.io/last-applied-configuration: client-side `kubectl apply`'s
//     copy of the last object it sent, which it rewrites itself on the next apply
//     (k8s.io/kubectl/pkg/cmd/apply); kept, a stale copy would be applied as desired state.
//   - the annotation deployment.kubernetes.io/revision: the Deployment controller's count of
//     rollouts (k8s.io/kubernetes/pkg/controller/deployment/util), not a desired state.
//
// An annotations map left empty is removed too.
var ServerFields = [][]string{
	{"metadata", "uid"}, {"metadata", "resourceVersion"}, {"metadata", "generation"},
	{"metadata", "creationTimestamp"}, {"metadata", "deletionTimestamp"},
	{"metadata", "deletionGracePeriodSeconds"}, {"metadata", "selfLink"},
	{"metadata", "managedFields"}, {"status"},
	{"metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"},
	{"metadata", "annotations", "deployment.kubernetes.io/revision"},
}

// withoutServerFields returns bodies with every ServerFields path removed; a body holding none is
// returned as it is, byte for byte. A body that is not a JSON object is an error naming its
// position (1-based).
func withoutServerFields(bodies []json.RawMessage) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(bodies))
	for i, body := range bodies {
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, fmt.Errorf("writing object %d: not a JSON object: %w", i+1, err)
		}
		if obj == nil {
			return nil, fmt.Errorf("writing object %d: not a JSON object: null", i+1)
		}
		stripped := false
		for _, path := range ServerFields {
			parent := obj
			for _, key := range path[:len(path)-1] {
				parent, _ = parent[key].(map[string]any)
			}
			if _, ok := parent[path[len(path)-1]]; ok {
				delete(parent, path[len(path)-1])
				stripped = true
			}
		}
		if meta, _ := obj["metadata"].(map[string]any); meta != nil {
			if a, ok := meta["annotations"].(map[string]any); ok && len(a) == 0 {
				delete(meta, "annotations")
			}
		}
		out[i] = body
		if stripped {
			data, err := json.Marshal(obj)
			if err != nil {
				return nil, fmt.Errorf("writing object %d: %w", i+1, err)
			}
			out[i] = data
		}
	}
	return out, nil
}

// Object is one Kubernetes object as its JSON fields (apiVersion, kind, metadata, spec…).
type Object = map[string]any

// Parse reads what Write writes, or any YAML stream of objects (documents separated by `---`
// lines; JSON documents are YAML too; a v1 List stands for its items), skipping empty documents.
// Each object must have apiVersion, kind and metadata.name. Errors name the document's position
// (1-based) and what is wrong with it.
func Parse(stream string) ([]Object, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(stream), 4096)
	var objs []Object
	for n := 1; ; n++ {
		var obj Object
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading object %d: %w", n, err)
		}
		if len(obj) == 0 {
			continue
		}
		items := []any{obj}
		if obj["kind"] == "List" && obj["apiVersion"] == "v1" {
			items, _ = obj["items"].([]any)
		}
		for _, item := range items {
			o, ok := item.(map[string]any)
			if !ok || !named(o) {
				return nil, fmt.Errorf("reading object %d: an object needs apiVersion, kind and metadata.name", n)
			}
			objs = append(objs, o)
		}
	}
}

func named(obj Object) bool {
	meta, _ := obj["metadata"].(map[string]any)
	for _, s := range []any{obj["apiVersion"], obj["kind"], meta["name"]} {
		if s, _ := s.(string); s == "" {
			return false
		}
	}
	return true
}
