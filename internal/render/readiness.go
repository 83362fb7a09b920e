package render

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/mlcanary/mlcanary/internal/config"
)

// The readiness probe mlcanary adds (README, "Deploying your model"). It is a readiness probe only:
// Kubernetes then keeps a pod out of its Service — and mlcanary's rollout wait, which counts
// available pods, keeps every route away from the version — until the model answers, however long
// the model takes to load. No liveness or startup probe is added: a liveness probe restarts the
// container, and a model that takes longer to load than a guessed limit would then never start
// (a startupProbe only matters as the guard of a liveness probe). The values:
//
//   - PeriodSeconds 5: a loaded model is noticed within 5 s (the kubelet's default, 10, doubles the
//     delay between "the model is loaded" and "the stage routes to it");
//   - TimeoutSeconds 2: an inference server busy scoring on few CPUs may take over the default 1 s
//     to answer its health path, and a pod that misses three in a row leaves the Service;
//   - FailureThreshold 3, SuccessThreshold 1 (Kubernetes' defaults): a ready pod that stops
//     answering for 15 s (3 × 5 s) is taken out of the Service until it answers again;
//   - InitialDelaySeconds 0: a probe that fails while the model loads costs nothing.
//
// Every field, including the ones the API server would default (scheme HTTP, successThreshold 1),
// is set, so the object the API server stores is exactly the object rendered and a re-run of a
// stage that holds writes nothing.
const (
	ReadinessPeriodSeconds    int32 = 5
	ReadinessTimeoutSeconds   int32 = 2
	ReadinessFailureThreshold int32 = 3
	ReadinessSuccessThreshold int32 = 1
)

// ReadinessProbe is the probe mlcanary adds to a scoring container: an HTTP GET of path (an
// absolute path, e.g. "/", which Azure ML's inference server answers 200 once the model is loaded)
// on port (the scoring port, --port), with the values above.
func ReadinessProbe(path string, port int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path:   path,
			Port:   intstr.FromInt32(port),
			Scheme: corev1.URISchemeHTTP,
		}},
		InitialDelaySeconds: 0,
		TimeoutSeconds:      ReadinessTimeoutSeconds,
		PeriodSeconds:       ReadinessPeriodSeconds,
		SuccessThreshold:    ReadinessSuccessThreshold,
		FailureThreshold:    ReadinessFailureThreshold,
	}
}

// WithReadinessProbe returns a copy of spec in which the container named container has a readiness
// probe: its own, kept exactly as it is, when it has one; otherwise ReadinessProbe(path, port).
// Nothing is added when path is config.ReadinessNone ("none": the user keeps a probe-less
// container as it is) or empty (no path to probe), or when spec has no container of that name. added is the probe it added (nil
// when it added none). spec itself is never changed.
func WithReadinessProbe(spec corev1.PodSpec, container, path string, port int32) (out corev1.PodSpec, added *corev1.Probe) {
	out = *spec.DeepCopy()
	if path == config.ReadinessNone || path == "" {
		return out, nil
	}
	for i := range out.Containers {
		c := &out.Containers[i]
		if c.Name != container || c.ReadinessProbe != nil {
			continue
		}
		c.ReadinessProbe = ReadinessProbe(path, port)
		return out, c.ReadinessProbe
	}
	return out, nil
}

// ReadinessNote says, for a change line or the plan, what the readiness rule did to container of
// the pod template spec a Deployment is rendered from (the template as given, before
// WithReadinessProbe), one of:
//
//	readiness probe GET / on port 5001 added to container model
//	readiness probe of deploy/model.yaml kept on container model         (its own; source names it)
//	no readiness probe on container model (--readiness-path none)
//
// and "" when spec has no container of that name. A template's own probe is "kept" even when it is
// field for field the one mlcanary would add: the note says what was done, not what it looks like.
// source is where the template came from (a file as typed, or "Deployment ns/name" for the
// pod template Blue_Green copies from blue); "" reads "the template".
func ReadinessNote(spec corev1.PodSpec, source, container, path string, port int32) string {
	if source == "" {
		source = "the template"
	}
	for _, c := range spec.Containers {
		switch {
		case c.Name != container:
			continue
		case c.ReadinessProbe != nil:
			return fmt.Sprintf("readiness probe of %s kept on container %s", source, container)
		case path == config.ReadinessNone || path == "":
			return fmt.Sprintf("no readiness probe on container %s (--readiness-path none)", container)
		}
		return fmt.Sprintf("readiness probe GET %s on port %d added to container %s", path, port, container)
	}
	return ""
}
