package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// checkPodTemplate picks t's scoring container (ScoringContainer) and refuses a template that
// conflicts with what mlcanary owns on the Deployments it writes (issue #9): a selector other than
// the labels mlcanary selects by, a pod label VersionLabel (mlcanary sets it per version) or
// AppLabel with a value other than {app}, a scoring container that declares ports without --port
// when no other container of the pod declares --port.
// It sets t.Container and t.Hash.
func checkPodTemplate(t *PodTemplate, selector *metav1.LabelSelector, c *Config) error {
	name, err := scoringContainer(t, c.Container)
	if err != nil {
		return err
	}
	t.Container = name
	owned := map[string]string{AppLabel: c.App, VersionLabel: "blue|green"}
	if selector != nil {
		ok := len(selector.MatchExpressions) == 0
		for k, v := range selector.MatchLabels {
			ok = ok && k == AppLabel && v == c.App
		}
		if !ok {
			return conflict(t.Source, "spec.selector "+selectorText(selector),
				fmt.Sprintf("no spec.selector, or only %s=%s ({app}): mlcanary selects each version's pods by %s", AppLabel, c.App, labelList(owned)))
		}
	}
	if v, ok := t.Spec.Labels[VersionLabel]; ok {
		return conflict(t.Source, fmt.Sprintf("spec.template.metadata.labels.%s=%s", VersionLabel, v),
			fmt.Sprintf("no %s label: mlcanary sets it to blue or green on each version's pods", VersionLabel))
	}
	if v, ok := t.Spec.Labels[AppLabel]; ok && v != c.App {
		return conflict(t.Source, fmt.Sprintf("spec.template.metadata.labels.%s=%s", AppLabel, v),
			fmt.Sprintf("no %s label, or %s=%s ({app}): mlcanary's Services select pods by it", AppLabel, AppLabel, c.App))
	}
	sidecarServes := ProxyServesPort(t.Spec.Spec, name, c.Port)
	for _, ctr := range t.Spec.Spec.Containers {
		if ctr.Name != name || len(ctr.Ports) == 0 || sidecarServes {
			continue
		}
		if !servesPort(ctr, c.Port) {
			var ports []string
			for _, p := range ctr.Ports {
				ports = append(ports, fmt.Sprint(p.ContainerPort))
			}
			return conflict(t.Source, fmt.Sprintf("containers[%s].ports %s", name, strings.Join(ports, ",")),
				fmt.Sprintf("no ports on the scoring container, or ports including %d ({port}), where mlcanary's Services send traffic, on it or on a proxy container in front of it", c.Port))
		}
	}
	if err := validatePodSpec(t); err != nil {
		return err
	}
	t.Hash = TemplateHash(t.Spec, name)
	return nil
}

// conflict is a template field that conflicts with what mlcanary owns: one line naming the file,
// the field as found and what is allowed.
func conflict(source, field, allowed string) *InputError {
	return &InputError{Input: FlagPodTemplate, Value: source, Allowed: allowed + " (found " + field + ")"}
}

// scoringContainer is the container mlcanary sets the image of in template t (PickContainer with
// --container want); a template where none can be picked is bad input naming its containers.
func scoringContainer(t *PodTemplate, want string) (string, error) {
	var names []string
	for _, c := range t.Spec.Spec.Containers {
		names = append(names, c.Name)
	}
	if name, ok := PickContainer(names, want); ok {
		return name, nil
	}
	if want != "" {
		return "", conflict(t.Source, "containers "+strings.Join(names, ", "),
			fmt.Sprintf("a pod template with a container named %s ({container})", want))
	}
	return "", conflict(t.Source, "containers "+strings.Join(names, ", "),
		fmt.Sprintf("one container, or one named %s, or {container} naming the scoring container", ContainerName))
}

// PickContainer is the rule that names the scoring container — the one mlcanary sets the image of —
// among a pod's containers (names, in order), for a pod template and for a Deployment mlcanary
// adopted alike (issue #9): the one --container names (want), else the only container, else the
// one named ContainerName. ok is false when want names none of them, or when want is empty and
// several containers, none named ContainerName, are candidates: then no container is picked, so
// a sidecar never gets the model's image.
func PickContainer(names []string, want string) (name string, ok bool) {
	switch {
	case want != "":
		return want, slices.Contains(names, want)
	case len(names) == 1:
		return names[0], true
	case slices.Contains(names, ContainerName):
		return ContainerName, true
	}
	return "", false
}

// validateContainer checks --container: a container name (DNS-1123 label).
func (c *Config) validateContainer() error {
	if c.Container == "" {
		return nil
	}
	if len(validation.IsDNS1123Label(c.Container)) > 0 {
		return &InputError{Input: FlagContainer, Value: c.Container, Allowed: "a container name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"}
	}
	return nil
}

func selectorText(s *metav1.LabelSelector) string {
	text := labelList(s.MatchLabels)
	if len(s.MatchExpressions) > 0 {
		text = strings.TrimPrefix(text+" and matchExpressions", " and ")
	}
	return text
}

func labelList(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// ProxyServesPort reports whether a container of spec other than the scoring container declares
// port: a proxy in front of the model (an auth proxy, an nginx), to which mlcanary's Services then
// send. A native sidecar (an init container with restartPolicy Always) runs beside the model and
// counts; a plain init container does not. Kubernetes sends to the pod's port whichever container
// serves it (containers[].ports are informational:
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#ports).
func ProxyServesPort(spec corev1.PodSpec, scoring string, port int32) bool {
	return slices.ContainsFunc(spec.Containers, func(ctr corev1.Container) bool { return ctr.Name != scoring && servesPort(ctr, port) }) ||
		slices.ContainsFunc(spec.InitContainers, func(ctr corev1.Container) bool {
			return ctr.RestartPolicy != nil && *ctr.RestartPolicy == corev1.ContainerRestartPolicyAlways && servesPort(ctr, port)
		})
}

func servesPort(ctr corev1.Container, port int32) bool {
	return slices.ContainsFunc(ctr.Ports, func(p corev1.ContainerPort) bool { return p.ContainerPort == port })
}
