// Package render builds the objects a stage wants to exist — Deployments, Services, the Gateway
// and the VirtualService — as pure functions of the inputs: only mlcanary's part of each, never read
// from a cluster. Package ownership merges them into the live objects (keeping what others own) and
// package admission holds the result to Istio's rules. Nothing here talks to a cluster, so the
// objects can be shown offline by `mlcanary plan --offline`.
package render

import (
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/mlcanary/mlcanary/internal/config"
)

func objectLabels(c *config.Config, v config.Version) map[string]string {
	l := c.Labels(v)
	l[config.ManagedByLabel] = config.ManagedBy
	return l
}

// Deployment builds version v's Deployment from the pod template t (DefaultTemplate when nil):
// the template's pod spec, labels and annotations as they are, plus what mlcanary owns — the
// object's name, the version labels on the pods and as the selector, the scoring container's
// (t.Container) image, its port --port when it declares none, the image pull secret, --replicas —
// and, for a template the user gave, its hash (config.TemplateHashAnnotation) so later stages can
// tell which template a version runs. Its pods carry Istio's version labels (TelemetryLabels)
// besides the selector's, and the scoring container the readiness probe WithReadinessProbe adds
// for c.ReadinessPath on c.Port when it has none. The file's Deployment-level settings (strategy,
// minReadySeconds, revisionHistoryLimit, progressDeadlineSeconds) are kept, the progress deadline
// raised to --timeout (withSettings).
func Deployment(c *config.Config, v config.Version, t *config.PodTemplate, image string) *appsv1.Deployment {
	if t == nil {
		t = DefaultTemplate(c, "")
	}
	replicas := c.Replicas
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: c.Objects[v].Deployment, Namespace: c.Namespace, Labels: objectLabels(c, v)},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: c.Labels(v)},
			Template: podTemplate(c, v, t, image),
		},
	}
	withSettings(&d.Spec, t.Deployment, c.Timeout)
	if t.Hash != "" {
		d.Annotations = map[string]string{config.TemplateHashAnnotation: t.Hash, config.ContainerAnnotation: t.Container}
	}
	return d
}

// DefaultTemplate is the pod template without --pod-template: one container named container
// (else --container, else config.ContainerName) listening on --port, named http.
func DefaultTemplate(c *config.Config, container string) *config.PodTemplate {
	if container == "" {
		container = c.Container
	}
	if container == "" {
		container = config.ContainerName
	}
	return &config.PodTemplate{Container: container, Spec: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: container}},
	}}}
}

// podTemplate is t's pod template with what mlcanary owns set for version v.
func podTemplate(c *config.Config, v config.Version, t *config.PodTemplate, image string) corev1.PodTemplateSpec {
	p := *t.Spec.DeepCopy()
	p.Name, p.Namespace, p.GenerateName = "", "", ""
	p.Labels = TelemetryLabels(p.Labels, v) // a new map: the template's own is never changed
	maps.Copy(p.Labels, c.Labels(v))
	for i := range p.Spec.Containers {
		ctr := &p.Spec.Containers[i]
		if ctr.Name != t.Container {
			continue
		}
		ctr.Image = image
		if len(ctr.Ports) == 0 && !config.ProxyServesPort(p.Spec, t.Container, c.Port) {
			ctr.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: c.Port, Protocol: corev1.ProtocolTCP}}
		}
	}
	if s := c.ImagePullSecret; s != "" && !slices.ContainsFunc(p.Spec.ImagePullSecrets, func(r corev1.LocalObjectReference) bool { return r.Name == s }) {
		p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	p.Spec, _ = WithReadinessProbe(p.Spec, t.Container, c.ReadinessPath, c.Port)
	return p
}

// Service builds version v's Service, which the VirtualService routes to.
func Service(c *config.Config, v config.Version) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: c.Objects[v].Service, Namespace: c.Namespace, Labels: objectLabels(c, v)},
		Spec: corev1.ServiceSpec{
			Selector: c.Labels(v),
			Ports: []corev1.ServicePort{{
				Name: "http", Port: c.Port, TargetPort: intstr.FromInt32(c.Port), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}
