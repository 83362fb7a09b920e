package engine_test

import (
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// parsed parses doc as --pod-template does, for config c.
func parsed(t *testing.T, c *config.Config, doc string) *config.PodTemplate {
	t.Helper()
	tm, err := config.ParsePodTemplate("deploy/model.yaml", []byte(doc), c)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// runDoc performs stage with image and the pod template doc ("" for none), tuned by opts (nil: none).
func (f *fixture) runDoc(stage, image, doc string, opts func(*config.Config)) (*summary.Result, error) {
	f.t.Helper()
	c := f.cfg(stage, image)
	if opts != nil {
		opts(&c)
	}
	if doc != "" {
		c.Template = parsed(f.t, &c, doc)
	}
	return f.run(c)
}

// helmPod is the pod template of `helm create credit-score` rendered by `helm template prod`,
// with the Deployment's selector removed (mlcanary refuses one): the chart's labels stay on the pod.
const helmPod = `---
# Source: credit-score/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: prod-credit-score
  labels:
    helm.sh/chart: credit-score-0.1.0
    app.kubernetes.io/name: credit-score
    app.kubernetes.io/instance: prod
    app.kubernetes.io/version: "1.16.0"
    app.kubernetes.io/managed-by: Helm
spec:
  template:
    metadata:
      labels:
        helm.sh/chart: credit-score-0.1.0
        app.kubernetes.io/name: credit-score
        app.kubernetes.io/instance: prod
        app.kubernetes.io/version: "1.16.0"
        app.kubernetes.io/managed-by: Helm
    spec:
      serviceAccountName: prod-credit-score
      securityContext: {}
      containers:
        - name: credit-score
          securityContext: {}
          image: "nginx:1.16.0"
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 5001
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /
              port: http
          readinessProbe:
            httpGet:
              path: /
              port: http
          resources: {}
`

// otherService creates Service name of another manager selecting selector, as a Helm release's
// Service serving in-cluster callers does.
func otherService(t *testing.T, f *fixture, name string, selector map[string]any) {
	t.Helper()
	create(t, kube.Services, f.ns, map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "labels": map[string]any{"app.kubernetes.io/managed-by": "Helm"},
			"annotations": map[string]any{"meta.helm.sh/release-name": "prod", "meta.helm.sh/release-namespace": f.ns}},
		"spec": map[string]any{"selector": selector, "ports": []any{map[string]any{"name": "http", "port": int64(80), "targetPort": "http"}}}})
}

// TestNoOtherServiceSelectsBluesPods (break-it review of #9, G2): a stage that creates blue's pods
// refuses, before any write (exit 1), when a Service of the namespace other than blue's own would
// select them — its callers would reach the unreleased blue outside the VirtualService's routes at
// Blue_0, which promises header requests only. Cases: the `helm create` chart's Service
// (app.kubernetes.io/name + instance) and blue deployed from the chart's rendered pod template
// (those labels); a Service selecting only app=model, with the default template. A Service that
// selects green only, or blue's own Service, is fine; so is the same template once the Helm
// Service is gone.
func TestNoOtherServiceSelectsBluesPods(t *testing.T) {
	helmSel := map[string]any{"app.kubernetes.io/name": "credit-score", "app.kubernetes.io/instance": "prod"}
	for _, tc := range []struct {
		name, doc string
		selector  map[string]any
		want      string // "" = not refused
	}{
		{"Helm chart's Service, chart's template", helmPod, helmSel, "Service NS/prod-credit-score (Helm release prod) selects blue's pods (its selector app.kubernetes.io/instance=prod,app.kubernetes.io/name=credit-score; blue's pods are labelled app=model,app.kubernetes.io/instance=prod,app.kubernetes.io/managed-by=Helm,app.kubernetes.io/name=credit-score,app.kubernetes.io/version=1.16.0,helm.sh/chart=credit-score-0.1.0,model_version=blue,service.istio.io/canonical-revision=blue,version=blue), so its callers would reach blue outside the VirtualService's routes before the release exposes it; remove the labels it selects by from the pod template deploy/model.yaml, or give that Service a selector that tells the versions apart (e.g. model_version=green)"},
		{"a Service selecting app only, default template", "", map[string]any{"app": "model"}, "Service NS/prod-credit-score (Helm release prod) selects blue's pods (its selector app=model; blue's pods are labelled app=model,model_version=blue,service.istio.io/canonical-revision=blue,version=blue), so its callers would reach blue outside the VirtualService's routes before the release exposes it; give that Service a selector that tells the versions apart (e.g. model_version=green)"},
		{"a Service selecting green only", helmPod, map[string]any{"app": "model", "model_version": "green"}, ""},
		{"a Service whose labels blue lacks", "", helmSel, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach(states[3].path)
			otherService(t, f, "prod-credit-score", tc.selector)
			before := versions(t, f.ns)
			f.rec.reset()
			_, err := f.runDoc("Blue_0", imgB, tc.doc, nil)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Blue_0: %v", err)
				}
				return
			}
			want := strings.ReplaceAll(tc.want, "NS", f.ns)
			if err == nil || !strings.HasSuffix(err.Error(), want) || app.ExitCode(err) != app.ExitFailed {
				t.Fatalf("Blue_0: %v (exit %d)\nwant exit 1 and …%s", err, app.ExitCode(err), want)
			}
			noWrites(t, f, "the refused Blue_0")
			if after := versions(t, f.ns); after["Deployment/model-blue"] != before["Deployment/model-blue"] {
				t.Error("blue changed")
			}
		})
	}
}
