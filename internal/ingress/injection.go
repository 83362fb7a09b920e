package ingress

import (
	"fmt"
	"slices"
	"strings"
)

// Mesh is what is known of the Istio installation when a stage checks its namespace's sidecar
// injection: whether it is AKS's add-on and which control plane revisions are installed.
type Mesh struct {
	// AddOn is set when the ingress gateway is the add-on's (found, or named by the selector).
	AddOn bool
	// Revisions are the istio.io/rev labels of the ingress gateway Services found (e.g.
	// asm-1-28); empty when unknown (not looked for, or not labelled).
	Revisions []string
}

// MeshOf describes the installation of the gateways found (nil when none was looked for) and of
// the Gateway selector the stage writes.
func MeshOf(found []Gateway, selector string) Mesh {
	m := Mesh{AddOn: strings.HasPrefix(selector, LabelKey+"="+addOnPrefix)}
	for _, g := range found {
		m.AddOn = m.AddOn || g.AddOn()
		if g.Revision != "" && !slices.Contains(m.Revisions, g.Revision) {
			m.Revisions = append(m.Revisions, g.Revision)
		}
	}
	slices.Sort(m.Revisions)
	return m
}

// Injection is the warning for namespace ns, whose labels are labels, when its pods would get no
// Istio sidecar; "" when they would. The rules are Istio's (sidecar injector webhooks select on
// the namespace's istio-injection and istio.io/rev labels; istio-injection wins) and the add-on's
// ("the default istio-injection=enabled label will not work": only istio.io/rev=asm-X-Y does).
// A pod without a sidecar is still routed by the ingress gateway, but has no mesh telemetry per
// version and no mTLS, so it is a warning, never a refusal.
func Injection(ns string, labels map[string]string, m Mesh) string {
	inj, rev := labels[InjectionLabel], labels[RevisionLabel]
	want := m.revision()
	switch {
	case inj == "disabled":
		return fmt.Sprintf("namespace %s is labelled %s=disabled: its pods get no Istio sidecar (no mesh telemetry per version, no mTLS)", ns, InjectionLabel)
	case rev != "" && len(m.Revisions) > 0 && !slices.Contains(m.Revisions, rev):
		return fmt.Sprintf("namespace %s is labelled %s=%s, but the installed revision is %s: its pods get no Istio sidecar; label it %s=%s (kubectl label namespace %s --overwrite %s=%s)",
			ns, RevisionLabel, rev, strings.Join(m.Revisions, " or "), RevisionLabel, want, ns, RevisionLabel, want)
	case rev != "":
		return ""
	case m.AddOn && inj == "enabled":
		return fmt.Sprintf("namespace %s is labelled %s=enabled, which AKS's Istio add-on ignores: its pods get no Istio sidecar; label it %s=%s instead (kubectl label namespace %s %s- %s=%s)",
			ns, InjectionLabel, RevisionLabel, want, ns, InjectionLabel, RevisionLabel, want)
	case inj == "enabled":
		return ""
	case m.AddOn:
		return fmt.Sprintf("namespace %s has no sidecar-injection label: its pods get no Istio sidecar (no mesh telemetry per version, no mTLS); label it %s=%s (kubectl label namespace %s %s=%s)",
			ns, RevisionLabel, want, ns, RevisionLabel, want)
	}
	return fmt.Sprintf("namespace %s has no sidecar-injection label (%s=enabled or %s=<revision>): its pods get no Istio sidecar (no mesh telemetry per version, no mTLS); label it (kubectl label namespace %s %s=enabled)",
		ns, InjectionLabel, RevisionLabel, ns, InjectionLabel)
}

// revision is the revision a namespace label should name: the add-on's newest installed (sorted
// as strings, which holds while minor versions have two digits), else the last installed, else the
// add-on's placeholder with where to read it, or "default".
func (m Mesh) revision() string {
	for i := len(m.Revisions) - 1; i >= 0 && m.AddOn; i-- { // the newest of the add-on's asm-1-NN
		if strings.HasPrefix(m.Revisions[i], "asm-") {
			return m.Revisions[i]
		}
	}
	switch {
	case len(m.Revisions) > 0:
		return m.Revisions[len(m.Revisions)-1]
	case m.AddOn:
		return "asm-1-NN (the add-on's revision: az aks show --query serviceMeshProfile.istio.revisions)"
	}
	return "default"
}

// Pod is what a pod template says about its own sidecar injection: its labels and annotations.
type Pod struct {
	Labels, Annotations map[string]string
}

// PodInjectLabel is the pod label (and, deprecated, annotation) with which a pod opts in or out of
// Istio's sidecar injection, whatever its namespace says.
const PodInjectLabel = "sidecar.istio.io/inject"

// PodInjection is Injection for pods of template pod in namespace ns: the pod's own choice comes
// first, as Istio's injector reads it ("Controlling the injection policy": if either the namespace
// label istio-injection or the pod label sidecar.istio.io/inject is disabled, the pod is not
// injected; if either of them, or istio.io/rev, enables it, it is): a pod labelled (or annotated)
// sidecar.istio.io/inject: "false" gets no sidecar in any namespace; one labelled "true", or with
// its own istio.io/rev label of an installed revision, gets one in a namespace without an injection
// label. AKS's add-on installs no default revision, so only istio.io/rev=asm-X-Y opts a pod in
// there. Break-it review of #9, G4.
func PodInjection(ns string, nsLabels map[string]string, pod Pod, m Mesh) string {
	choice, found := pod.Labels[PodInjectLabel]
	if !found {
		choice = pod.Annotations[PodInjectLabel]
	}
	rev := pod.Labels[RevisionLabel]
	switch {
	case choice == "false":
		return fmt.Sprintf("the pod template opts out of the sidecar (%s: \"false\"): its pods in namespace %s get no Istio sidecar (no mesh telemetry per version, no mTLS)", PodInjectLabel, ns)
	case nsLabels[InjectionLabel] == "disabled":
		return Injection(ns, nsLabels, m)
	case rev != "" && (len(m.Revisions) == 0 || slices.Contains(m.Revisions, rev)):
		return ""
	case choice == "true" && !m.AddOn && nsLabels[RevisionLabel] == "":
		return ""
	}
	return Injection(ns, nsLabels, m)
}
