package engine

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// exposed refuses a stage that deploys blue when a Service of the namespace other than blue's own
// (--blue-service) would select blue's new pods: its callers would reach blue outside the
// VirtualService's routes, before the release exposes blue (Blue_0 promises header requests only).
// A pod template's labels (a Helm chart's app.kubernetes.io/name and instance, which its release's
// Service selects) or a Service selecting only app are how it happens (break-it review of #9, G2).
// One list of the namespace's Services, made only when the plan creates or replaces blue's pods;
// credentials that may not list them leave a note. The refusal names the Service, its manager, its
// selector, blue's pod labels and the fixes, before any write.
func (e *execution) exposed(ctx context.Context) error {
	var step *plan.Step
	for i, s := range e.plan.Steps {
		if s.Action == plan.ApplyDeployment && s.Version == config.Blue {
			step = &e.plan.Steps[i]
		}
	}
	if step == nil || !newPods(e.live.facts(), *step) {
		return nil // blue's pods stay as they are (a re-run): a Service selecting them was refused before
	}
	labels := e.podLabels(*step)
	services, err := e.c.cluster.List(kube.Optional(ctx), kube.Services, e.cfg.Namespace)
	switch {
	case refused(err):
		e.plan.Notes = append(e.plan.Notes, fmt.Sprintf("the Services of namespace %s were not checked for selecting blue's pods: the credentials cannot list them", e.cfg.Namespace))
		return nil
	case err != nil:
		return fmt.Errorf("checking which Services select blue's pods: %w", e.c.hinted(ctx, err))
	}
	for _, svc := range services {
		if svc.GetName() == e.cfg.Objects[config.Blue].Service || svc.GetDeletionTimestamp() != nil {
			continue
		}
		selector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
		if len(selector) == 0 || !plan.Selects(selector, labels) {
			continue
		}
		who := ""
		if m := ownership.ManagerOf(svc); m != "" {
			who = " (" + m + ")"
		}
		fix := "give that Service a selector that tells the versions apart (e.g. " + config.VersionLabel + "=green)"
		if t := e.cfg.Template; t != nil {
			fix = "remove the labels it selects by from the pod template " + t.Source + ", or " + fix
		}
		return &plan.PreconditionError{Stage: e.cfg.Stage.String(), Msg: fmt.Sprintf(
			"Service %s/%s%s selects blue's pods (its selector %s; blue's pods are labelled %s), so its callers would reach blue outside the VirtualService's routes before the release exposes it; %s",
			e.cfg.Namespace, svc.GetName(), who, plan.LabelText(selector), plan.LabelText(labels), fix)}
	}
	return nil
}

// podLabels are the labels step's Deployment gives its pods: an adopted Deployment keeps its own.
func (e *execution) podLabels(s plan.Step) map[string]string {
	if live := e.live.observed().typed[s.Version]; live != nil && ownership.Adopted(e.live.deployments[s.Version]) {
		return live.Spec.Template.Labels
	}
	d, _ := e.live.deployment(s.Version, s.Image, s.Container)
	return d.Spec.Template.Labels
}
