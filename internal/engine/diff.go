package engine

import (
	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// diff renders a unified diff between the live object and what the server says it would store,
// leaving out the fields the server maintains (managedFields, resourceVersion, status, …).
func diff(name string, live, desired *unstructured.Unstructured) string {
	text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(cleanYAML(live)), B: difflib.SplitLines(cleanYAML(desired)),
		FromFile: "live " + name, ToFile: "desired " + name, Context: 3,
	})
	return text
}

func cleanYAML(u *unstructured.Unstructured) string {
	if u == nil {
		return ""
	}
	c := u.DeepCopy()
	delete(c.Object, "status")
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	// Values someone put in a Deployment are not mlcanary's to print: environment values (which may
	// be credentials) and kubectl's copy of the whole last applied object.
	unstructured.RemoveNestedField(c.Object, "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration")
	redactEnv(c.Object)
	out, err := yaml.Marshal(c.Object)
	if err != nil {
		return err.Error()
	}
	return string(out)
}

// redactEnv replaces every container's literal env values with "(redacted)".
func redactEnv(obj map[string]any) {
	for _, kind := range []string{"containers", "initContainers", "ephemeralContainers"} {
		redactEnvOf(obj, kind)
	}
}

func redactEnvOf(obj map[string]any, kind string) {
	containers, found, _ := unstructured.NestedSlice(obj, "spec", "template", "spec", kind)
	if !found {
		return
	}
	for _, c := range containers {
		env, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
		for _, e := range env {
			if m, ok := e.(map[string]any); ok {
				if _, has := m["value"]; has {
					m["value"] = "(redacted)"
				}
			}
		}
		_ = unstructured.SetNestedSlice(c.(map[string]any), env, "env")
	}
	_ = unstructured.SetNestedSlice(obj, containers, "spec", "template", "spec", kind)
}
