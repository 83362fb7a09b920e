package engine

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// shapeOf reads what package plan checks of a Deployment before a stage writes anything: who
// created it, its selector, pod labels and the scoring container's declared ports.
func shapeOf(d *unstructured.Unstructured) plan.Shape {
	if d == nil {
		return plan.Shape{}
	}
	s := plan.Shape{Adopted: ownership.Adopted(d)}
	s.Selector, _, _ = unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
	if s.Selector == nil {
		s.Selector = map[string]string{}
	}
	exprs, _, _ := unstructured.NestedSlice(d.Object, "spec", "selector", "matchExpressions")
	s.Expressions = len(exprs) > 0
	s.PodLabels, _, _ = unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
	name, _ := scoringContainer(d)
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		m, _ := c.(map[string]any)
		n, _, _ := unstructured.NestedString(m, "name")
		s.Containers = append(s.Containers, n)
		if n != name {
			continue
		}
		ports, _, _ := unstructured.NestedSlice(m, "ports")
		for _, p := range ports {
			pm, _ := p.(map[string]any)
			if n, found, _ := unstructured.NestedInt64(pm, "containerPort"); found {
				s.Ports = append(s.Ports, int32(n))
			}
			if n, _, _ := unstructured.NestedString(pm, "name"); n != "" {
				s.PortNames = append(s.PortNames, n)
			}
		}
	}
	return s
}

// serviceOf reads a version's Service: who created it, its selector and where port --port sends.
func serviceOf(svc *unstructured.Unstructured, port int32) plan.ServiceState {
	if svc == nil {
		return plan.ServiceState{}
	}
	s := plan.ServiceState{Exists: true, Adopted: ownership.Adopted(svc)}
	s.Selector, _, _ = unstructured.NestedStringMap(svc.Object, "spec", "selector")
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	for _, p := range ports {
		m, _ := p.(map[string]any)
		n, _, _ := unstructured.NestedInt64(m, "port")
		s.Ports = append(s.Ports, int32(n))
		if int32(n) != port {
			continue
		}
		s.TargetPort = fmt.Sprint(n) // Kubernetes: targetPort defaults to port
		if t, ok := m["targetPort"]; ok {
			s.TargetPort = fmt.Sprint(t)
		}
	}
	return s
}
