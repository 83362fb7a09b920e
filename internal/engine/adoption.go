package engine

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// shapeOf reads what package plan checks of a Deployment before a stage writes anything: who
// created it (from the live object u's labels), its selector, pod labels and the scoring
// container's (name: scoringContainer's choice) declared ports (from d, u as the typed struct).
func shapeOf(u *unstructured.Unstructured, d *appsv1.Deployment, name string) plan.Shape {
	if u == nil || d == nil {
		return plan.Shape{}
	}
	s := plan.Shape{Adopted: ownership.Adopted(u), Selector: map[string]string{}, PodLabels: d.Spec.Template.Labels}
	if sel := d.Spec.Selector; sel != nil {
		if sel.MatchLabels != nil {
			s.Selector = sel.MatchLabels
		}
		s.Expressions = len(sel.MatchExpressions) > 0
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		s.Containers = append(s.Containers, c.Name)
		if c.Name != name {
			continue
		}
		s.Probe = c.ReadinessProbe != nil
		for _, p := range c.Ports {
			if p.ContainerPort != 0 {
				s.Ports = append(s.Ports, p.ContainerPort)
			}
			if p.Name != "" {
				s.PortNames = append(s.PortNames, p.Name)
			}
		}
	}
	return s
}

// serviceOf reads a version's Service (typed: kube.ServiceOf): who created it, its selector and
// where port --port sends.
func serviceOf(u *unstructured.Unstructured, port int32) plan.ServiceState {
	svc, err := kube.ServiceOf(u)
	if svc == nil || err != nil { // the API server never returns a Service with fields of the wrong type
		return plan.ServiceState{Exists: u != nil, Adopted: u != nil && ownership.Adopted(u)}
	}
	s := plan.ServiceState{Exists: true, Adopted: ownership.Adopted(u), Selector: svc.Spec.Selector}
	for _, p := range svc.Spec.Ports {
		s.Ports = append(s.Ports, p.Port)
		if p.Port != port {
			continue
		}
		s.TargetPort = fmt.Sprint(p.Port) // Kubernetes: targetPort defaults to port
		if t := p.TargetPort; t.Type == intstr.String || t.IntVal != 0 {
			s.TargetPort = t.String()
		}
	}
	return s
}
