package kube

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/json"
)

// DeploymentOf reads a live Deployment as the typed struct, at the edge, the way kubectl's rollout
// status viewer does (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go
// DeploymentStatusViewer.Status): status and replicas are read from typed fields, which say what
// they are and need no field fidelity. Writes and merges keep the unstructured object, which carries
// every field someone else set (package ownership). A nil u gives nil. It fails only on a field of
// the wrong type, which the API server never returns for a Deployment.
func DeploymentOf(u *unstructured.Unstructured) (*appsv1.Deployment, error) {
	if u == nil {
		return nil, nil
	}
	d := &appsv1.Deployment{}
	if err := Decode(u, d); err != nil {
		return nil, fmt.Errorf("reading Deployment %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return d, nil
}

// ServiceOf reads a live Service as the typed struct, as DeploymentOf does a Deployment: its
// selector and ports are read, never merged (mlcanary never writes an adopted Service). A nil u
// gives nil.
func ServiceOf(u *unstructured.Unstructured) (*corev1.Service, error) {
	if u == nil {
		return nil, nil
	}
	s := &corev1.Service{}
	if err := Decode(u, s); err != nil {
		return nil, fmt.Errorf("reading Service %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return s, nil
}

// Decode decodes u into the typed struct into through u's JSON form, as a typed client decodes an
// answer: field names case-sensitive, unknown fields ignored (sigs.k8s.io/json, apimachinery's
// decoder). Not runtime.DefaultUnstructuredConverter: it caches what it learns of
// each struct field in one map that it copies whole for every field it has not seen before, so
// the first Deployment a process converts costs a copy per field of the pod spec's types — 3–4 ms
// measured, against 1.5 ms through JSON (both cold, in a new process, as every stage is).
func Decode(u *unstructured.Unstructured, into any) error {
	data, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	return json.UnmarshalCaseSensitivePreserveInts(data, into)
}
