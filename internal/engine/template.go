package engine

import (
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/render"
)

// template is the pod template version v's Deployment is rendered from (issue #9):
//   - a Deployment mlcanary adopted: the default template with its live scoring container
//     (container), since mlcanary sets only that container's image on it;
//   - green in Blue_Green, when blue was deployed from a pod template (it carries
//     config.TemplateHashAnnotation) or was created by someone else (a Helm release's blue, which
//     mlcanary only set the image of): blue's whole pod template as the cluster holds it, with its
//     hash, so green runs exactly what blue ran, not only its image;
//   - otherwise the --pod-template given, else the default template (one container named
//     container, else config.ContainerName).
func (l *liveState) template(v config.Version, container string) *config.PodTemplate {
	if ownership.Adopted(l.deployments[v]) {
		return render.DefaultTemplate(l.cfg, container)
	}
	if v == config.Green && l.cfg.Stage.Kind == config.KindBlueGreen {
		if t := l.liveTemplate(config.Blue); t != nil {
			return t
		}
	}
	if l.cfg.Template != nil {
		return l.cfg.Template
	}
	return render.DefaultTemplate(l.cfg, container)
}

// liveTemplate is version v's pod template as the cluster holds it, when mlcanary deployed it
// from a pod template, or when someone else created it (adopted: its pod spec is its owner's, with
// everything the model needs), nil otherwise: its spec as read (API-server defaults included, which
// the copy then sets too, so a re-run compares equal), its Deployment-level settings (strategy,
// minReadySeconds, revisionHistoryLimit, progressDeadlineSeconds: green gets blue's rollout as well
// as its pods), its scoring container and its template hash (templateHash). nil too when the
// scoring container of an adopted one cannot be told (config.PickContainer); package plan refuses
// that stage.
func (l *liveState) liveTemplate(v config.Version) *config.PodTemplate {
	d := l.observed().typed[v]
	hash := l.templateHash(v)
	if d == nil || hash == "" {
		return nil
	}
	name, _ := scoringContainer(d, l.cfg.Container)
	if name == "" {
		return nil
	}
	return &config.PodTemplate{Source: "Deployment " + d.Namespace + "/" + d.Name, Spec: *d.Spec.Template.DeepCopy(),
		Container: name, Hash: hash,
		Deployment: config.DeploymentSettings{Strategy: *d.Spec.Strategy.DeepCopy(), MinReadySeconds: d.Spec.MinReadySeconds,
			RevisionHistoryLimit: d.Spec.RevisionHistoryLimit, ProgressDeadlineSeconds: d.Spec.ProgressDeadlineSeconds}}
}

// templateHash identifies the pod template version v's Deployment runs ("" for none or no
// Deployment): the hash a Deployment deployed from a pod template records
// (config.TemplateHashAnnotation); for a Deployment someone else created, the hash of its live pod
// template without the scoring image (config.TemplateHash), so Blue_Green's copy of an adopted
// blue onto green records what Green_100 then finds on blue.
func (l *liveState) templateHash(v config.Version) string {
	d := l.observed().typed[v]
	switch {
	case d == nil:
		return ""
	case ownership.Adopted(l.deployments[v]):
		name, _ := scoringContainer(d, l.cfg.Container)
		return config.TemplateHash(d.Spec.Template, name)
	}
	return d.Annotations[config.TemplateHashAnnotation]
}
