package render

import (
	"maps"

	"github.com/mlcanary/mlcanary/internal/config"
)

// The pod labels Istio's telemetry names a workload's version by. Istio's metrics
// (destination_canonical_revision, destination_version), Kiali and Azure Monitor's dashboards take
// the version from service.istio.io/canonical-revision, else app.kubernetes.io/version, else
// version, else report "latest" (istio/istio pkg/kube/labels); Kiali's version graph reads version.
const (
	CanonicalRevisionLabel = "service.istio.io/canonical-revision"
	IstioVersionLabel      = "version"
)

// TelemetryLabels returns pod labels with Istio's version labels for version v added: the
// canonical revision is always v ("blue" or "green"), and version is v unless labels already carry
// a version of the user's own (any value but "blue" or "green": a template's `version: v3` is kept,
// while the `version: blue` of a pod template copied from blue, as Blue_Green copies it to green,
// becomes green's). labels is not changed; nil gives only the two labels. These are pod template
// labels only, never part of a selector (a Deployment's selector is immutable).
func TelemetryLabels(labels map[string]string, v config.Version) map[string]string {
	out := maps.Clone(labels)
	if out == nil {
		out = map[string]string{}
	}
	out[CanonicalRevisionLabel] = string(v)
	if cur, ok := out[IstioVersionLabel]; !ok || cur == string(config.Blue) || cur == string(config.Green) {
		out[IstioVersionLabel] = string(v)
	}
	return out
}
