package engine

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// beingDeleted is "" for an object that is absent or not being deleted, else one clause naming it,
// since when and the finalizers that hold it: "Deployment ns/x is being deleted (since
// 2026-11-29T17:00:00Z, waiting for finalizers platform.example.com/hold)". Kubernetes keeps an
// object with a deletionTimestamp only until its finalizers finish
// (https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/).
func beingDeleted(gvr schema.GroupVersionResource, u *unstructured.Unstructured) string {
	if u == nil || u.GetDeletionTimestamp() == nil {
		return ""
	}
	return kube.Kind(gvr) + " " + u.GetNamespace() + "/" + u.GetName() + " is being deleted" + kube.DeletionDetail(u)
}

// dyingVersion makes a version whose Deployment or Service is being deleted count as absent for
// every decision (plan.VersionState.Deleting): its status may still say rolled out, but it goes
// away once its finalizers finish, so it is neither deployed nor ready, and its Service is absent.
func dyingVersion(st plan.VersionState, d, svc *unstructured.Unstructured) plan.VersionState {
	var why []string
	if c := beingDeleted(kube.Deployments, d); c != "" {
		why = append(why, c)
		st.Deployed, st.Ready, st.Current, st.Available = false, false, false, 0
	}
	if c := beingDeleted(kube.Services, svc); c != "" {
		why = append(why, c)
		st.Ready, st.Service = false, plan.ServiceState{}
	}
	st.Deleting = strings.Join(why, " and ")
	return st
}
