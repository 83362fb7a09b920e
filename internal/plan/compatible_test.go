package plan

import (
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// adopted is a ready version (image m:1) set up by someone else with the given pod labels and a Service
// selecting selector on ports.
func adopted(pods, selector map[string]string, ports ...int32) VersionState {
	st := ready("m:1")
	st.Shape = Shape{Adopted: true, Selector: pods, PodLabels: pods, Containers: []string{"model"}, Ports: []int32{5001}}
	st.Service = ServiceState{Exists: true, Adopted: true, Selector: selector, Ports: ports, TargetPort: "5001"}
	return st
}

// TestCompatibility: what package plan refuses before any write, and what it lets through because
// mlcanary adapts (an adopted green with app: scoring), as pure decisions.
func TestCompatibility(t *testing.T) {
	scoring := map[string]string{"app": "scoring", "model_version": "green"}
	model := map[string]string{"app": "model", "model_version": "green"}
	cases := []struct {
		name, stage string
		green       VersionState
		want        string // "" when the stage is planned
	}{
		{"app: scoring adopted whole", "Blue_0", adopted(scoring, scoring, 5001), ""},
		{"Service selects other pods", "Rollback", adopted(model, scoring, 5001), "Service abtesting/model-svc-green: spec.selector is app=scoring,model_version=green, which does not select green's pods (labelled app=model,model_version=green)"},
		{"Service selects both versions", "Blue_0", adopted(model, map[string]string{"app": "model"}, 5001), "spec.selector app=model also selects blue's pods"},
		{"Service without --port", "Rollback", adopted(model, model, 80), "spec.ports are [80], but mlcanary routes green's traffic to port 5001 (--port)"},
		{"Service with empty selector", "Rollback", adopted(model, nil, 5001), "spec.selector is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Stage, _ = config.ParseStage(tc.stage)
			c.Image = "m:2"
			if tc.stage != "Blue_0" {
				c.Image = ""
			}
			_, err := Make(&c, Live{Versions: map[config.Version]VersionState{config.Green: tc.green}, Routing: routing.NewRouting(true, false, 100, 0)})
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestSelects: a Service selector selects pods as Kubernetes matches an equality selector; a key
// selecting the empty value needs the label present (the engine's exposure check and the
// compatibility rules share this one rule).
func TestSelects(t *testing.T) {
	for _, c := range []struct {
		selector, labels map[string]string
		want             bool
	}{
		{map[string]string{"app": "m"}, map[string]string{"app": "m", "version": "blue"}, true},
		{map[string]string{"app": "m", "version": "green"}, map[string]string{"app": "m", "version": "blue"}, false},
		{map[string]string{"tier": ""}, map[string]string{"app": "m"}, false},
		{map[string]string{"tier": ""}, map[string]string{"app": "m", "tier": ""}, true},
		{nil, map[string]string{"app": "m"}, true},
	} {
		if got := Selects(c.selector, c.labels); got != c.want {
			t.Errorf("Selects(%s, %s) = %v, want %v", LabelText(c.selector), LabelText(c.labels), got, c.want)
		}
	}
}
