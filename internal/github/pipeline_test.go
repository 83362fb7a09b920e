package github

import (
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/config"
)

// workflow is the part of a GitHub workflow the example's rules are about.
type workflow struct {
	Jobs map[string]struct {
		Needs       any    `json:"needs"`
		If          string `json:"if"`
		Environment string `json:"environment"`
		Steps       []struct {
			Uses string            `json:"uses"`
			With map[string]string `json:"with"`
			Run  string            `json:"run"`
		} `json:"steps"`
	} `json:"jobs"`
}

// The example pipeline runs every documented stage in its own job behind its own environment,
// verifies traffic right after each stage (verify-gateway), uses only inputs action.yml declares,
// and rolls back when anything before fails.
func TestExamplePipeline(t *testing.T) {
	b, err := os.ReadFile("../../pipelines/github-canary.yml")
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]bool{}
	for name := range readActionYAML(t).Inputs {
		inputs[name] = true
	}
	stages := map[string]string{} // stage → job
	envs := map[string]string{}
	for name, job := range w.Jobs {
		var stage string
		verified := false
		for _, s := range job.Steps {
			if strings.HasPrefix(s.Uses, "mlcanary/mlcanary@v") {
				stage = s.With["stage"]
				if _, err := config.ParseStage(stage); err != nil {
					t.Errorf("job %s: %v", name, err)
				}
				for input := range s.With {
					if !inputs[input] {
						t.Errorf("job %s: action.yml has no input %s", name, input)
					}
				}
				verified = s.With["verify-gateway"] == "${{ vars.GATEWAY }}"
			}
		}
		if stage == "" {
			t.Errorf("job %s runs no stage", name)
			continue
		}
		if !verified {
			t.Errorf("job %s (%s) does not verify its stage with verify-gateway: ${{ vars.GATEWAY }}", name, stage)
		}
		if job.Environment == "" || envs[job.Environment] != "" {
			t.Errorf("job %s: environment %q must be set and its own (protection rules are the approvals)", name, job.Environment)
		}
		envs[job.Environment] = name
		stages[stage] = name
	}
	for _, s := range []string{"Blue_0", "Blue_50", "Blue_100", "Blue_Green", "Green_100", "Rollback"} {
		if stages[s] == "" {
			t.Errorf("no job runs %s", s)
		}
	}
	rb := w.Jobs[stages["Rollback"]]
	needs, _ := rb.Needs.([]any)
	for stage, job := range stages {
		if stage != "Rollback" && !slices.Contains(needs, any(job)) {
			t.Errorf("rollback does not need %s, so a failure there would not roll back", job)
		}
	}
	if !strings.Contains(rb.If, "failure()") {
		t.Errorf("rollback runs if %q, want on failure()", rb.If)
	}
}
