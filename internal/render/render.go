// Package render builds the objects a stage wants to exist — Deployments, Services, the Gateway
// and the VirtualService — as pure functions of the inputs: only mlcanary's part of each, never read
// from a cluster. Package ownership merges them into the live objects (keeping what others own) and
// package admission holds the result to Istio's rules. Nothing here talks to a cluster, so the
// objects can be shown offline by `mlcanary plan --offline`.
package render

import (
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

// Deployment builds version v's Deployment running image in the container named container (the
// live one's name for a Deployment mlcanary adopted; config.ContainerName when empty). Its pods
// carry Istio's version labels (TelemetryLabels) besides the selector's, and the scoring container
// the readiness probe WithReadinessProbe adds for c.ReadinessPath on c.Port.
func Deployment(c *config.Config, v config.Version, image, container string) *appsv1.Deployment {
	if container == "" {
		container = config.ContainerName
	}
	replicas := c.Replicas
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: c.Objects[v].Deployment, Namespace: c.Namespace, Labels: objectLabels(c, v)},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: c.Labels(v)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: TelemetryLabels(c.Labels(v), v)},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:  container,
						Image: image,
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: c.Port, Protocol: corev1.ProtocolTCP}},
					}},
				},
			},
		},
	}
	d.Spec.Template.Spec, _ = WithReadinessProbe(d.Spec.Template.Spec, container, c.ReadinessPath, c.Port)
	if c.ImagePullSecret != "" {
		d.Spec.Template.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: c.ImagePullSecret}}
	}
	return d
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
