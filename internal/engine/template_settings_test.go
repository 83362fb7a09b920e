package engine_test

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// slowGPUModel is a GPU LLM's Deployment as its team has it: a model load of up to 30 minutes
// (progressDeadlineSeconds 1800), no spare GPU to surge onto (maxSurge 0, maxUnavailable 1), a
// pod counted available after 30 s ready, 3 old ReplicaSets kept.
const slowGPUModel = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
spec:
  progressDeadlineSeconds: 1800
  minReadySeconds: 30
  revisionHistoryLimit: 3
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 0, maxUnavailable: 1}
  template:
    spec:
      containers:
        - name: model
          image: x
          ports: [{name: http, containerPort: 5001}]
          resources:
            limits: {nvidia.com/gpu: "1"}
`

// TestDeploymentSettingsOfTheTemplateAreKept (breakit9 G6): a Deployment file's rollout settings
// are kept on blue's Deployment (Blue_0) and on green's (Blue_Green copies blue's with its pods):
// strategy maxSurge 0 (a GPU pool without a spare GPU), minReadySeconds, revisionHistoryLimit, and
// a progress deadline no shorter than --timeout (the file's 1800 s, and 2700 s for --timeout 45m);
// a re-run writes nothing. Only spec.template was used, so a model load over 10 minutes failed
// every stage at 10 minutes with ProgressDeadlineExceeded.
func TestDeploymentSettingsOfTheTemplateAreKept(t *testing.T) {
	for _, tc := range []struct {
		timeout time.Duration
		want    int64
	}{{30 * time.Minute, 1800}, {45 * time.Minute, 2700}} {
		t.Run(tc.timeout.String(), func(t *testing.T) {
			f := newFixture(t)
			cfg := func(stage, image string) config.Config {
				c := f.cfg(stage, image)
				c.Timeout = tc.timeout
				tm, err := config.ParsePodTemplate("deploy/llm.yaml", []byte(slowGPUModel), &c)
				if err != nil {
					t.Fatal(err)
				}
				c.Template = tm
				return c
			}
			for _, s := range []struct{ stage, image string }{{"Blue_0", imgA}, {"Blue_100", ""}, {"Blue_Green", ""}, {"Green_100", ""}, {"Blue_0", imgB}} {
				if _, err := f.run(cfg(s.stage, s.image)); err != nil {
					t.Fatalf("%s: %v", s.stage, err)
				}
				if s.stage == "Blue_Green" || s.stage == "Blue_0" {
					for _, name := range []string{"model-blue", "model-green"} {
						if s.stage == "Blue_0" && name == "model-green" && s.image == imgA {
							continue
						}
						spec := get(t, kube.Deployments, f.ns, name).Object["spec"].(map[string]any)
						pds, _, _ := unstructured.NestedInt64(spec, "progressDeadlineSeconds")
						surge, _, _ := unstructured.NestedFieldNoCopy(spec, "strategy", "rollingUpdate", "maxSurge")
						if pds != tc.want || fmt.Sprint(surge) != "0" || spec["minReadySeconds"] != int64(30) || spec["revisionHistoryLimit"] != int64(3) {
							t.Errorf("after %s %s: progressDeadlineSeconds %d (want %d), maxSurge %v (want 0), minReadySeconds %v, revisionHistoryLimit %v",
								s.stage, name, pds, tc.want, surge, spec["minReadySeconds"], spec["revisionHistoryLimit"])
						}
					}
				}
			}
			f.rec.reset()
			if _, err := f.run(cfg("Blue_0", imgB)); err != nil {
				t.Fatal(err)
			}
			noWrites(t, f, "Blue_0 re-run")
		})
	}
}
