package azdo

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"
)

type pipeline struct {
	Variables map[string]string
	Stages    []struct {
		Stage     string
		DependsOn any `json:"dependsOn"`
		Condition string
		Jobs      []struct {
			Deployment  string
			Environment string
			Strategy    struct {
				RunOnce struct {
					Deploy struct {
						Steps []struct {
							Checkout string
							Task     string
							Inputs   map[string]string
						}
					}
				} `json:"runOnce"`
			}
		}
	}
}

// TestAbtestPipeline checks pipelines/abtest.yml is the documented flow done with this task: the
// stages in order on environment abtestenv, Rollback on failure on abtestenv-rollback, each verified through $(GATEWAY)
// right after its stage, and only inputs task.json declares.
func TestAbtestPipeline(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "pipelines", "abtest.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var p pipeline
	if err := yaml.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"K8S_AB_SERVICE_CONNECTION", "K8S_AB_NAMESPACE", "IMAGE_REPO_NAME", "GATEWAY"} {
		if p.Variables[v] == "" {
			t.Errorf("variable %s is not defined", v)
		}
	}
	declared := map[string]bool{}
	for _, in := range readTask(t).Inputs {
		declared[in.Name] = true
	}
	var stages []string
	for _, s := range p.Stages {
		stages = append(stages, s.Stage)
		if s.Stage == "Build" {
			continue
		}
		env := "abtestenv"
		if s.Stage == "Rollback" { // its own environment: approvals on abtestenv never hold it up
			env = "abtestenv-rollback"
		}
		if len(s.Jobs) != 1 || s.Jobs[0].Environment != env {
			t.Errorf("stage %s: want one deployment job on environment %s", s.Stage, env)
			continue
		}
		steps := s.Jobs[0].Strategy.RunOnce.Deploy.Steps
		// A step that reads a pod template from the repository needs it checked out first: a
		// deployment job checks nothing out by itself.
		if len(steps) == 2 && steps[0].Checkout == "self" && steps[1].Inputs["podTemplate"] != "" {
			steps = steps[1:]
		} else if len(steps) == 1 && steps[0].Inputs["podTemplate"] != "" {
			t.Errorf("stage %s reads podTemplate %s but checks nothing out (add - checkout: self before it)", s.Stage, steps[0].Inputs["podTemplate"])
		}
		want := s.Stage
		if s.Stage == "Shadow" { // optional: the Shadow_N stage SHADOW names, skipped when it is empty
			want = "$(SHADOW)"
			if s.Condition != "and(succeeded(), ne(variables['SHADOW'], ''))" {
				t.Errorf("stage Shadow has condition %q, want it to run only when SHADOW is set", s.Condition)
			}
		}
		if len(steps) != 1 || steps[0].Task != "MLCanary@1" || steps[0].Inputs["stage"] != want {
			t.Errorf("stage %s: want one MLCanary@1 step with stage %s", s.Stage, want)
			continue
		}
		if steps[0].Inputs["verifyGateway"] != "$(GATEWAY)" {
			t.Errorf("stage %s: verifyGateway %q, want $(GATEWAY) so the stage is verified", s.Stage, steps[0].Inputs["verifyGateway"])
		}
		for name := range steps[0].Inputs {
			if !declared[name] {
				t.Errorf("stage %s uses input %s, which task.json does not declare", s.Stage, name)
			}
		}
		if (s.Stage == "Rollback") != (s.Condition == "failed()") {
			t.Errorf("stage %s has condition %q", s.Stage, s.Condition)
		}
	}
	if p.Variables["POD_TEMPLATE"] == "" {
		t.Error("variable POD_TEMPLATE is not defined: the example shows a pod template in use")
	}
	if v, ok := p.Variables["SHADOW"]; !ok || v != "" {
		t.Errorf("variable SHADOW is %q (set: %v), want it defined and empty: the Shadow stage is optional", v, ok)
	}
	want := []string{"Build", "Blue_0", "Shadow", "Blue_50", "Blue_100", "Blue_Green", "Green_100", "Rollback"}
	if !slices.Equal(stages, want) {
		t.Errorf("stages %v, want %v", stages, want)
	}
}
