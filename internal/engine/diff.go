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
	out, err := yaml.Marshal(c.Object)
	if err != nil {
		return err.Error()
	}
	return string(out)
}
