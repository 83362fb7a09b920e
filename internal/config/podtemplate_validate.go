package config

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// validatePodSpec refuses, as bad input before anything is sent, a pod template the API server
// would reject when the stage writes its Deployment — the common mistakes, by the rules of
// Kubernetes' own pod validation (k8s.io/kubernetes pkg/apis/core/validation: ValidatePodSpec,
// validateContainers, validateContainerPorts, ValidateResourceRequirements, validateVolumes;
// apps validation for a Deployment's pods): container and volume names (DNS-1123 labels, unique),
// an image on every container but the scoring one (whose image mlcanary sets), port names (an
// IANA service name: at most 15 characters) and numbers, unique port names per container,
// requests no greater than limits, extended resources (nvidia.com/gpu) whole and with requests
// equal to limits, volume mounts naming a volume of the pod with a mount path, and restartPolicy
// Always (the only one a Deployment's pods may have). The refusal names the field by its path.
func validatePodSpec(t *PodTemplate) error {
	p := t.Spec.Spec
	if rp := p.RestartPolicy; rp != "" && rp != corev1.RestartPolicyAlways {
		return invalidField(t.Source, "spec.restartPolicy "+string(rp), "restartPolicy Always or none: a Deployment's pods always restart")
	}
	volumes := map[string]bool{}
	for i, v := range p.Volumes {
		field := fmt.Sprintf("spec.volumes[%d].name", i)
		if errs := validation.IsDNS1123Label(v.Name); len(errs) > 0 {
			return invalidField(t.Source, field+" "+shownName(v.Name), "a volume name: a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)")
		}
		if volumes[v.Name] {
			return invalidField(t.Source, field+" "+v.Name+" (twice)", "a volume name used once")
		}
		volumes[v.Name] = true
	}
	names := map[string]bool{}
	for _, list := range []struct {
		field string
		cs    []corev1.Container
	}{{"spec.initContainers", p.InitContainers}, {"spec.containers", p.Containers}} {
		for i, c := range list.cs {
			at := fmt.Sprintf("%s[%d]", list.field, i)
			if errs := validation.IsDNS1123Label(c.Name); len(errs) > 0 {
				return invalidField(t.Source, at+".name "+shownName(c.Name), "a container name: a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)")
			}
			if names[c.Name] {
				return invalidField(t.Source, at+".name "+c.Name+" (twice)", "container names used once in the pod (containers and initContainers)")
			}
			names[c.Name] = true
			at = fmt.Sprintf("%s[%s]", list.field, c.Name)
			scoring := list.field == "spec.containers" && c.Name == t.Container
			if strings.TrimSpace(c.Image) == "" && !scoring {
				return invalidField(t.Source, at+".image empty", "an image on every container but the scoring one ("+t.Container+", whose image mlcanary sets)")
			}
			if err := validateContainer(t.Source, at, c, volumes); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateContainer(source, at string, c corev1.Container, volumes map[string]bool) error {
	ports := map[string]bool{}
	for i, p := range c.Ports {
		field := fmt.Sprintf("%s.ports[%d]", at, i)
		if p.Name != "" {
			if errs := validation.IsValidPortName(p.Name); len(errs) > 0 {
				return invalidField(source, field+".name "+shownName(p.Name), "a port name: an IANA service name — at most 15 characters, lower-case letters, digits and '-', with a letter, no '--' and no '-' at either end")
			}
			if ports[p.Name] {
				return invalidField(source, field+".name "+p.Name+" (twice)", "port names used once in a container")
			}
			ports[p.Name] = true
		}
		if len(validation.IsValidPortNum(int(p.ContainerPort))) > 0 {
			return invalidField(source, fmt.Sprintf("%s.containerPort %d", field, p.ContainerPort), "a port number from 1 to 65535")
		}
		if p.HostPort != 0 && len(validation.IsValidPortNum(int(p.HostPort))) > 0 {
			return invalidField(source, fmt.Sprintf("%s.hostPort %d", field, p.HostPort), "no hostPort, or a port number from 1 to 65535")
		}
	}
	if err := validateResources(source, at+".resources", c.Resources); err != nil {
		return err
	}
	for i, m := range c.VolumeMounts {
		field := fmt.Sprintf("%s.volumeMounts[%d]", at, i)
		if !volumes[m.Name] {
			return invalidField(source, field+".name "+shownName(m.Name), "the name of a volume of the pod (spec.volumes)")
		}
		if m.MountPath == "" {
			return invalidField(source, field+".mountPath empty", "an absolute path to mount the volume at")
		}
	}
	return nil
}

// validateResources: a request may not exceed its limit; an extended resource (a name with a
// domain outside kubernetes.io, e.g. nvidia.com/gpu) cannot be overcommitted, so it is a whole
// number, and a request needs an equal limit.
func validateResources(source, at string, r corev1.ResourceRequirements) error {
	for name, q := range r.Limits {
		if q.Sign() < 0 {
			return invalidField(source, fmt.Sprintf("%s.limits.%s %s", at, name, q.String()), "a quantity of 0 or more")
		}
	}
	for name, q := range r.Requests {
		field := fmt.Sprintf("%s.requests.%s %s", at, name, q.String())
		if q.Sign() < 0 {
			return invalidField(source, field, "a quantity of 0 or more")
		}
		limit, limited := r.Limits[name]
		if limited && q.Cmp(limit) > 0 {
			return invalidField(source, field+" above limits "+limit.String(), "a request no greater than its limit")
		}
		if extended(name) {
			if !limited || q.Cmp(limit) != 0 {
				return invalidField(source, field, fmt.Sprintf("a limit equal to the request for %s: an extended resource cannot be overcommitted", name))
			}
		}
	}
	for name, q := range r.Limits {
		if extended(name) && q.Value()*1000 != q.MilliValue() {
			return invalidField(source, fmt.Sprintf("%s.limits.%s %s", at, name, q.String()), "a whole number of "+string(name))
		}
	}
	return nil
}

// extended is Kubernetes' IsExtendedResourceName: a qualified name with a domain that is not
// kubernetes.io (nor requests.-prefixed), such as nvidia.com/gpu or amd.com/gpu.
func extended(name corev1.ResourceName) bool {
	n := string(name)
	if !strings.Contains(n, "/") || strings.Contains(n, "kubernetes.io/") || strings.HasPrefix(n, "requests.") {
		return false
	}
	return len(validation.IsQualifiedName(n)) == 0
}

// invalidField is a template field the API server would reject: one line naming the file, the
// field (its path and value) and what is allowed.
func invalidField(source, field, allowed string) *InputError {
	return conflict(source, field, allowed)
}
