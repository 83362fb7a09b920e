package pipelines

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestAzurePipelines runs the rules over every Azure Pipelines YAML file in this directory.
func TestAzurePipelines(t *testing.T) {
	task, err := readTaskDef(filepath.Join("..", "task", "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.yml")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if isGitHubWorkflow(t, doc) {
			continue
		}
		checked++
		findings, err := checkAzure(doc, task)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, l := range findings {
			t.Errorf("%s: %s", f, l)
		}
	}
	if checked == 0 {
		t.Fatal("no Azure Pipelines file found")
	}
}

// isGitHubWorkflow tells a GitHub workflow (jobs is a map) from an Azure pipeline (stages or a
// jobs list).
func isGitHubWorkflow(t *testing.T, doc []byte) bool {
	var p map[string]any
	if err := yaml.Unmarshal(doc, &p); err != nil {
		t.Fatal(err)
	}
	_, ok := p["jobs"].(map[string]any)
	return ok
}

// TestReadmeShowsGitHubPipeline keeps the README's copy of github-canary.yml the file itself.
func TestReadmeShowsGitHubPipeline(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile("github-canary.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<summary>pipelines/github-canary.yml</summary>")
	_, rest, ok2 := strings.Cut(rest, "```yaml\n")
	shown, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no ```yaml block under <summary>pipelines/github-canary.yml</summary>")
	}
	if shown != string(file) {
		t.Error("README.md's copy of pipelines/github-canary.yml differs from the file")
	}
}

// TestDocumentedTaskSteps holds the MLCanary@1 steps the README and the Marketplace overview show
// to task.json, as TestAzurePipelines does the example pipeline's (their $(variables) are the
// reader's, so any name passes).
func TestDocumentedTaskSteps(t *testing.T) {
	task, err := readTaskDef(filepath.Join("..", "task", "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	anyVariable := func(string) bool { return true }
	for _, doc := range []string{"README.md", filepath.Join("images", "overview.md")} {
		b, err := os.ReadFile(filepath.Join("..", doc))
		if err != nil {
			t.Fatal(err)
		}
		steps := 0
		for _, block := range strings.Split(string(b), "```yaml\n")[1:] {
			block, _, _ = strings.Cut(block, "```")
			var list []map[string]any
			if yaml.Unmarshal([]byte(block), &list) != nil {
				continue // a whole pipeline or workflow, not a list of steps
			}
			for _, st := range list {
				ref, _ := st["task"].(string)
				if !task.matches(ref) {
					continue
				}
				steps++
				inputs, _ := st["inputs"].(map[string]any)
				for _, l := range checkTask(doc, ref, inputs, task, anyVariable) {
					t.Error(l)
				}
			}
		}
		if steps == 0 {
			t.Errorf("%s shows no MLCanary@1 step", doc)
		}
	}
}

// TestOverviewListsOutputs: the Marketplace overview names every output variable task.json sets.
func TestOverviewListsOutputs(t *testing.T) {
	task, err := readTaskDef(filepath.Join("..", "task", "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "images", "overview.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range task.OutputVariables {
		if !strings.Contains(string(b), "`"+o.Name+"`") {
			t.Errorf("images/overview.md does not list output %s", o.Name)
		}
	}
}
