package engine

import (
	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/secret"
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

// cleanYAML is u as a plan's diff prints it: without the fields the server maintains and kubectl's
// copy of the last applied object, and with every credential redacted (secret.Object: env values,
// secret-looking arguments, credential headers, URL passwords), since the diff lands in pipeline
// logs and values someone put in a live object are not mlcanary's to print.
func cleanYAML(u *unstructured.Unstructured) string {
	if u == nil {
		return ""
	}
	c := u.DeepCopy()
	delete(c.Object, "status")
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(c.Object, "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration")
	out, err := yaml.Marshal(secret.Object(c.Object))
	if err != nil {
		return err.Error()
	}
	return string(out)
}
