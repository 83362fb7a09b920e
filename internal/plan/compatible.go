package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
)

// ServiceState is what the cluster says about a version's Service.
type ServiceState struct {
	// Exists is true when the Service exists; Adopted when mlcanary did not create it, so its
	// selector and ports are its owner's and mlcanary never writes them.
	Exists, Adopted bool
	// Selector is spec.selector.
	Selector map[string]string
	// Ports are the Service's port numbers; TargetPort is where the port numbered --port sends
	// (a number or a container port name; "" when the Service has no such port).
	Ports      []int32
	TargetPort string
}

// Shape is what the cluster says about a Deployment mlcanary may not change: its selector
// (immutable), its pod labels and its containers.
type Shape struct {
	// Adopted is true when mlcanary did not create the Deployment: mlcanary then writes only the
	// scoring container's image and the replicas, never labels, selector or ports.
	Adopted bool
	// Selector is spec.selector.matchLabels (nil when unknown); Expressions is true when the
	// selector also has matchExpressions.
	Selector    map[string]string
	Expressions bool
	// PodLabels are the pod template's labels.
	PodLabels map[string]string
	// Containers are the containers' names; Ports and PortNames are the scoring container's
	// declared container ports.
	Containers []string
	Ports      []int32
	PortNames  []string
	// Probe is true when the scoring container has a readiness probe.
	Probe bool
}

// compatible refuses the plan, before anything is written, when an object one of its steps touches
// cannot serve the stage and is not mlcanary's to change: an adopted Service whose selector does
// not select the version's pods (or also selects the other version's) or that has no port --port,
// a Deployment whose immutable selector is not the one the stage needs, a scoring container that
// cannot be told apart or that does not listen where its Service sends. Issue #8, kinds 2 and 7.
func (b *builder) compatible() error {
	for _, v := range config.Versions {
		if !b.touches(v) {
			continue
		}
		if err := b.compatibleVersion(v); err != nil {
			return err
		}
	}
	return nil
}

// touches reports whether a step writes v's Deployment or Service.
func (b *builder) touches(v config.Version) bool {
	return slices.ContainsFunc(b.plan.Steps, func(s Step) bool {
		return s.Version == v && (s.Action == ApplyDeployment || s.Action == ApplyService)
	})
}

func (b *builder) deploys(v config.Version) bool {
	return slices.ContainsFunc(b.plan.Steps, func(s Step) bool { return s.Version == v && s.Action == ApplyDeployment })
}

// pods returns the labels v's pods carry during the stage: an adopted Deployment, or one this
// stage does not write, keeps its own; one mlcanary writes gets config.Labels. ok is false when v
// has no pods.
func (b *builder) pods(v config.Version) (map[string]string, bool) {
	st := b.state(v)
	switch {
	case st.Deployed && st.Shape.PodLabels != nil && (st.Shape.Adopted || !b.deploys(v)):
		return st.Shape.PodLabels, true
	case st.Deployed || b.deploys(v):
		return b.cfg.Labels(v), true
	}
	return nil, false
}

func (b *builder) compatibleVersion(v config.Version) error {
	st, cfg := b.state(v), b.cfg
	deployment := fmt.Sprintf("Deployment %s/%s", cfg.Namespace, cfg.Objects[v].Deployment)
	service := fmt.Sprintf("Service %s/%s", cfg.Namespace, cfg.Objects[v].Service)
	want := cfg.Labels(v)
	if st.Deployed && !st.Shape.Adopted && b.deploys(v) && st.Shape.Selector != nil && (st.Shape.Expressions || !maps.Equal(st.Shape.Selector, want)) {
		return b.refuse("%s: spec.selector is %s, but this stage writes it with pods labelled %s (--app %s) and a Deployment's selector cannot be changed; delete the Deployment so that mlcanary creates it again, or run with the --app it was created with",
			deployment, LabelText(st.Shape.Selector), LabelText(want), cfg.App)
	}
	if st.Deployed && st.Shape.Adopted && b.deploys(v) {
		if err := b.adoptedContainer(deployment, st.Shape.Containers); err != nil {
			return err
		}
		b.adoptedReadiness(v, deployment)
	}
	pods, hasPods := b.pods(v)
	svc := st.Service
	target := fmt.Sprint(cfg.Port) // a Service mlcanary writes targets --port
	selector := want
	if svc.Exists && svc.Adopted {
		selector = svc.Selector
		if len(selector) == 0 {
			return b.refuse("%s: spec.selector is empty, so it selects no pods of %s; mlcanary does not change a Service it did not create: give it a selector (e.g. %s), or delete it so that mlcanary creates it",
				service, v, LabelText(pods))
		}
		if !slices.Contains(svc.Ports, cfg.Port) {
			return b.refuse("%s: spec.ports are %v, but mlcanary routes %s's traffic to port %d (--port); mlcanary does not change a Service it did not create: add port %d, or run with --port set to the Service's port",
				service, svc.Ports, v, cfg.Port, cfg.Port)
		}
		target = svc.TargetPort
	}
	if hasPods && !Selects(selector, pods) {
		if svc.Exists && svc.Adopted {
			return b.refuse("%s: spec.selector is %s, which does not select %s's pods (labelled %s); mlcanary does not change a Service it did not create: make the selector match the pods, or delete the Service so that mlcanary creates it",
				service, LabelText(selector), v, LabelText(pods))
		}
		if !st.Shape.Adopted {
			return b.refuse("%s: this stage writes spec.selector %s (--app %s), which does not select %s's pods (labelled %s, Deployment %s), and it does not redeploy %s; run with the --app %s was deployed with",
				service, LabelText(selector), cfg.App, v, LabelText(pods), cfg.Objects[v].Deployment, v, v)
		}
		return b.refuse("%s: its pods are labelled %s, which the Service %s mlcanary writes (selector %s) would not select, and mlcanary does not change the labels of a Deployment it did not create; label the pods %s, or create Service %s selecting them",
			deployment, LabelText(pods), cfg.Objects[v].Service, LabelText(selector), LabelText(want), cfg.Objects[v].Service)
	}
	if other, ok := b.pods(v.Other()); ok && Selects(selector, other) {
		return b.refuse("%s: spec.selector %s also selects %s's pods (labelled %s), so traffic meant for %s would reach %s too; add a label that tells the versions apart (e.g. %s=%s)",
			service, LabelText(selector), v.Other(), LabelText(other), v, v.Other(), config.VersionLabel, v)
	}
	return b.listens(v, deployment, service, target)
}

// adoptedContainer requires the scoring container of a Deployment mlcanary adopted (one it
// writes only that container's image on) to be known by config.PickContainer's rule, the rule of a
// pod template: --container names one of its containers, or it has one container, or one named
// "model". Otherwise the image could go to a sidecar: bad input on --container (exit 2), naming
// the Deployment's containers, before anything is written.
func (b *builder) adoptedContainer(deployment string, containers []string) error {
	if _, ok := config.PickContainer(containers, b.cfg.Container); ok {
		return nil
	}
	allowed := fmt.Sprintf("the name of the container that runs the model in %s, which mlcanary did not create and whose image is all it changes: one of %s", deployment, strings.Join(containers, ", "))
	if b.cfg.Container == "" {
		allowed += fmt.Sprintf(" (it has several containers and none is named %s)", config.ContainerName)
	}
	return &config.InputError{Input: config.FlagContainer, Value: b.cfg.Container, Allowed: allowed}
}

// adoptedReadiness notes, when a stage writes the image of an adopted Deployment whose scoring
// container has no readiness probe, that Kubernetes will count its pods ready while their model
// loads. mlcanary adds no probe to a Deployment it did not create (its owner's next apply would
// remove it, and a probe on a path the image does not serve would keep every pod out of its
// Service); --readiness-path none says the user knows, so it is quiet then.
func (b *builder) adoptedReadiness(v config.Version, deployment string) {
	st := b.state(v)
	if st.Shape.Probe || b.cfg.ReadinessPath == config.ReadinessNone {
		return
	}
	b.note("%s was not created by mlcanary and its container %s has no readiness probe, so Kubernetes counts its pods ready as soon as they start and %s may get requests while its model loads; mlcanary adds no probe to a Deployment it did not create: add a readiness probe (e.g. GET %s on port %d) to it where it is defined",
		deployment, st.Container, v, b.cfg.ReadinessPath, b.cfg.Port)
}

// listens checks that v's scoring container accepts what its Service sends to target.
func (b *builder) listens(v config.Version, deployment, service, target string) error {
	st := b.state(v)
	if st.Deployed && st.Shape.Adopted {
		if len(st.Shape.Ports) == 0 || slices.Contains(st.Shape.PortNames, target) || slices.ContainsFunc(st.Shape.Ports, func(p int32) bool { return fmt.Sprint(p) == target }) {
			return nil
		}
		return b.refuse("%s: container %s declares ports %v, but %s sends %s's traffic to port %s; mlcanary does not change the ports of a Deployment it did not create: make them agree, or run with --port set to the container's port",
			deployment, st.Container, st.Shape.Ports, service, v, target)
	}
	if target != fmt.Sprint(b.cfg.Port) && target != "http" {
		return b.refuse("%s: port %d sends to target port %s, but mlcanary's pods of %s listen on %d (--port) named http; mlcanary does not change a Service it did not create: make its targetPort %d",
			service, b.cfg.Port, target, v, b.cfg.Port, b.cfg.Port)
	}
	return nil
}

// Selects reports whether a Service selector selects pods labelled labels, as Kubernetes matches
// an equality selector: every key of selector is a label of the pods with the same value (a key
// selecting "" selects only pods that have that label, empty).
func Selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if l, ok := labels[k]; !ok || l != v {
			return false
		}
	}
	return true
}

// LabelText renders labels as "k=v,k=v", sorted by key ("" for none).
func LabelText(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}
