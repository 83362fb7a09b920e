package engine_test

import (
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
)

// noInjectPod is a bare pod template whose pods opt out of Istio's sidecar (the annotation form,
// and the label form Istio recommends), as teams set on a batch or GPU pod.
const noInjectPod = `metadata:
  annotations:
    sidecar.istio.io/inject: "false"
  labels:
    sidecar.istio.io/inject: "false"
spec:
  containers:
    - name: model
      image: x
      ports: [{name: http, containerPort: 5001}]
`

// TestTemplateOptingOutOfTheSidecarIsWarned (break-it review of #9, G4): the sidecar-injection warning promises a line
// "when the pods would get no sidecar", but looks only at the namespace's labels. A pod template
// that opts out (sidecar.istio.io/inject: "false", label or annotation) in a namespace labelled
// istio-injection=enabled gets no sidecar — no mesh telemetry per version, no mTLS — and no
// warning.
func TestTemplateOptingOutOfTheSidecarIsWarned(t *testing.T) {
	f := newFixture(t)
	res, err := f.runDoc("Blue_0", imgA, noInjectPod, func(c *config.Config) { c.DetectGateway = true })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "sidecar.istio.io/inject") {
		t.Errorf("Blue_0 from a pod template with sidecar.istio.io/inject=false in a namespace labelled istio-injection=enabled: warnings %q, want one saying the pods get no sidecar", res.Warnings)
	}
}

// TestTemplateOptingIntoTheSidecarIsNotWarned (G4): Istio's injector also injects a pod that
// opts in itself (label sidecar.istio.io/inject: "true", or istio.io/rev: <revision>) in a namespace
// without an injection label; the warning then says the pods get no sidecar when they do.
func TestTemplateOptingIntoTheSidecarIsNotWarned(t *testing.T) {
	f := newFixture(t)
	f.labelNamespace(`{"metadata":{"labels":{"istio-injection":null}}}`)
	doc := strings.ReplaceAll(noInjectPod, `"false"`, `"true"`)
	res, err := f.runDoc("Blue_0", imgA, doc, func(c *config.Config) { c.DetectGateway = true })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("Blue_0 from a pod template labelled sidecar.istio.io/inject=true: warnings %q, want none (Istio injects such pods)", res.Warnings)
	}
}
