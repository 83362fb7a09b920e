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

// build is a Build stage that publishes image.imageTag, as pipelines/abtest.yml's does.
const build = `
variables:
  DRY: 'false'
stages:
- stage: Build
  jobs:
  - job: Build
    steps:
    - bash: echo "##vso[task.setvariable variable=imageTag;isOutput=true]42"
      name: image
`

// canary is a valid MLCanary step at the indentation of a job's steps.
const canary = `
    - task: MLCanary@1
      inputs:
        kubernetesServiceConnection: k8s
        stage: Blue_50
`

// TestAzureRules gives each rule a pipeline that breaks only it (want: a part of the one finding)
// and pipelines that hold (want "").
func TestAzureRules(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		// Outputs reach only the stages that list the producer in dependsOn.
		{"issue 13: Blue_50 reads Build's tag but depends on Blue_0 only", build + `
- stage: Blue_0
  jobs:
  - job: A
    steps:` + canary + `
- stage: Blue_50
  dependsOn: Blue_0
  variables:
    imageTag: $[ stageDependencies.Build.Build.outputs['image.imageTag'] ]
  jobs:
  - job: A
    steps:` + canary,
			"stage Blue_50 variable imageTag reads stageDependencies.Build.Build.outputs['image.imageTag'], but stage Build is not in its dependsOn [Blue_0]"},
		{"the fix: Build listed", build + `
- stage: Blue_0
  jobs:
  - job: A
    steps:` + canary + `
- stage: Blue_50
  dependsOn: [Build, Blue_0]
  jobs:
  - deployment: A
    environment: env
    variables:
      imageTag: $[ stageDependencies.Build.Build.outputs['image.imageTag'] ]
    strategy:
      runOnce:
        deploy:
          steps:
          - task: MLCanary@1
            inputs: {kubernetesServiceConnection: k8s, stage: Blue_50, imageTag: $(imageTag)}
`, ""},
		{"implicit dependsOn: the stage before", build + `
- stage: Deploy
  jobs:
  - job: A
    variables:
      tag: $[ stageDependencies.Build.Build.outputs['image.imageTag'] ]
    steps:` + canary, ""},
		{"implicit dependsOn is not transitive", build + `
- stage: Blue_0
  jobs:
  - job: A
    steps:` + canary + `
- stage: Blue_50
  jobs:
  - job: A
    variables:
      tag: $[ stageDependencies.Build.Build.outputs['image.imageTag'] ]
    steps:` + canary,
			"stage Blue_50 job A variable tag reads stageDependencies.Build.Build.outputs['image.imageTag'], but stage Build is not in stage Blue_50's dependsOn [Blue_0]"},
		{"stage condition: dependencies.S", build + `
- stage: Blue_0
  jobs:
  - job: A
    steps:` + canary + `
- stage: Blue_50
  condition: eq(dependencies.Build.outputs['Build.image.imageTag'], '42')
  jobs:
  - job: A
    steps:` + canary,
			"stage Blue_50 condition reads dependencies.Build.outputs['Build.image.imageTag'], but stage Build is not in its dependsOn [Blue_0]"},
		{"job condition: dependencies.J of the same stage", build + `
  - job: Check
    condition: eq(dependencies.Build.outputs['image.imageTag'], '42')
    steps:` + canary,
			"stage Build job Check condition reads dependencies.Build.outputs['image.imageTag'], but job Build is not in the job's dependsOn []"},
		{"job condition with the job in dependsOn", build + `
  - job: Check
    dependsOn: Build
    condition: eq(dependencies.Build.outputs['image.imageTag'], '42')
    steps:` + canary, ""},
		{"a variable reads outputs only inside $[ ]", build + `
- stage: Deploy
  jobs:
  - job: A
    variables:
      tag: stageDependencies.Build.Build.outputs['image.imageTag']
    steps:` + canary,
			"stage Deploy job A variable tag reads stageDependencies.Build.Build.outputs['image.imageTag'] outside $[ ]"},
		{"task inputs do not evaluate dependencies", build + `
- stage: Deploy
  jobs:
  - job: A
    steps:
    - task: MLCanary@1
      inputs:
        kubernetesServiceConnection: k8s
        imageTag: $[ stageDependencies.Build.Build.outputs['image.imageTag'] ]
`,
			"stage Deploy job A step 1 input imageTag reads stageDependencies.Build.Build.outputs['image.imageTag']: task inputs are not run-time expressions"},
		{"the producing job exists", build + `
- stage: Deploy
  jobs:
  - job: A
    variables:
      tag: $[ stageDependencies.Build.Publish.outputs['image.imageTag'] ]
    steps:` + canary,
			"but stage Build has no job Publish"},
		{"the producing step exists", build + `
- stage: Deploy
  jobs:
  - job: A
    variables:
      tag: $[ stageDependencies.Build.Build.outputs['img.imageTag'] ]
    steps:` + canary,
			"but stage Build job Build has no step named img"},
		{"the step sets the output with isOutput=true", build + `
- stage: Deploy
  jobs:
  - job: A
    variables:
      tag: $[ stageDependencies.Build.Build.outputs['image.tag'] ]
    steps:` + canary,
			"but step image of stage Build job Build does not set output tag"},
		{"a deployment job's outputs start with its name", build + `
- stage: Blue_0
  jobs:
  - deployment: D
    environment: env
    strategy:
      runOnce:
        deploy:
          steps:
          - task: MLCanary@1
            name: canary
            inputs: {kubernetesServiceConnection: k8s, stage: Blue_0}
- stage: Blue_50
  dependsOn: Blue_0
  jobs:
  - job: A
    variables:
      blue: $[ stageDependencies.Blue_0.D.outputs['canary.blueImage'] ]
    steps:` + canary,
			"a deployment job's outputs are named 'D.STEP.VARIABLE'"},
		{"MLCanary's outputs are task.json's", build + `
- stage: Blue_0
  jobs:
  - deployment: D
    environment: env
    strategy:
      runOnce:
        deploy:
          steps:
          - task: MLCanary@1
            name: canary
            inputs: {kubernetesServiceConnection: k8s, stage: Blue_0}
- stage: Blue_50
  dependsOn: Blue_0
  condition: eq(dependencies.Blue_0.outputs['D.D.canary.blueWeigth'], '0')
  jobs:
  - job: A
    steps:` + canary,
			"but step canary of stage Blue_0 job D does not set output blueWeigth"},

		// MLCanary@1 steps against task.json.
		{"an input task.json does not declare", build + `
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s, imageTags: '42'}
`, "MLCanary@1 has no input imageTags"},
		{"a radio value outside its options", build + `
    - task: MLCanary@1
      inputs: {connectionType: kubeconfig, kubernetesServiceConnection: k8s}
`, `input connectionType: "kubeconfig" is not one of its options`},
		{"a boolean that is not true or false", build + `
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s, dryRun: maybe}
`, `input dryRun: "maybe" is not true or false`},
		{"a boolean from a defined variable", build + `
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s, dryRun: $(DRY)}
`, ""},
		{"a stage mlcanary does not know", build + `
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s, stage: Blue_150}
`, `input stage: "Blue_150" is not a stage`},
		{"a required input its visibleRule shows, left out", build + `
    - task: MLCanary@1
      inputs: {stage: Blue_50}
`, "MLCanary@1 needs input kubernetesServiceConnection"},
		{"required inputs a visibleRule hides", build + `
    - task: MLCanary@1
      inputs: {connectionType: azureResourceManager, azureSubscriptionConnection: arm, azureResourceGroup: rg, kubernetesCluster: aks}
`, ""},
		{"the other connection type's required inputs", build + `
    - task: MLCanary@1
      inputs: {connectionType: azureResourceManager, azureResourceGroup: rg, kubernetesCluster: aks}
`, "MLCanary@1 needs input azureSubscriptionConnection"},
		{"a macro no variables block defines", build + `
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s, imageTag: $(imageTag)}
`, `input imageTag uses $(imageTag), which no variables block defines`},
		{"a version task.json is not", build + `
    - task: MLCanary@2
      inputs: {kubernetesServiceConnection: k8s}
`, "MLCanary@2: task.json is version 1"},

		{"a pipeline of jobs: one implicit stage", `
variables: {DRY: 'false'}
jobs:
- job: Build
  steps:
  - bash: echo "##vso[task.setvariable variable=imageTag;isOutput=true]42"
    name: image
- job: Deploy
  variables:
    tag: $[ dependencies.Build.outputs['image.imageTag'] ]
  steps:` + strings.ReplaceAll(canary, "\n  ", "\n"),
			"stage (implicit) job Deploy variable tag reads dependencies.Build.outputs['image.imageTag'], but job Build is not in the job's dependsOn []"},
		{"a pipeline of steps: one implicit job", `
steps:
- task: MLCanary@1
  inputs: {kubernetesServiceConnection: k8s, dryRun: $(DRY)}
`, "input dryRun uses $(DRY), which no variables block defines"},

		// Names and dependsOn.
		{"a stage name starting with a digit", build + `
- stage: 2nd
  jobs:
  - job: A
    steps:` + canary, `stage name "2nd": only letters, digits and _ are allowed`},
		{"a stage name with a dash", build + `
- stage: Blue-50
  jobs:
  - job: A
    steps:` + canary, `stage name "Blue-50": only letters, digits and _ are allowed`},
		{"a stage name used twice", build + `
- stage: build
  jobs:
  - job: A
    steps:` + canary, "stage name build is used twice"},
		{"a job name used twice in a stage", build + `
  - job: Build
    steps:` + canary, "stage Build: job name Build is used twice"},
		{"dependsOn a stage that does not exist", build + `
- stage: Deploy
  dependsOn: [Build, Blue_0]
  jobs:
  - job: A
    steps:` + canary, "stage Deploy: dependsOn names Blue_0, which is not a stage"},
		{"dependsOn a job that does not exist", build + `
  - job: A
    dependsOn: Biuld
    steps:` + canary, "stage Build job A: dependsOn names Biuld, which is not a job of stage Build"},
		{"dependsOn in a cycle", `
stages:
- stage: A
  dependsOn: B
  jobs:
  - job: J
    steps:` + canary + `
- stage: B
  dependsOn: A
  jobs:
  - job: J
    steps:` + canary, "stage A: dependsOn forms a cycle A → B → A"},
	}
	task, err := readTaskDef(filepath.Join("..", "task", "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			findings, err := checkAzure([]byte(tc.doc), task)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(findings) > 0 {
					t.Errorf("want no finding, got:\n%s", strings.Join(findings, "\n"))
				}
				return
			}
			if len(findings) != 1 || !strings.Contains(findings[0], tc.want) {
				t.Errorf("want one finding containing %q, got:\n%s", tc.want, strings.Join(findings, "\n"))
			}
		})
	}
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
