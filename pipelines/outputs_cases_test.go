package pipelines

import (
	"path/filepath"
	"strings"
	"testing"
)

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

// TestAzureOutputRules gives each rule on reading other stages' and jobs' outputs a pipeline that
// breaks only it, and pipelines that hold.
func TestAzureOutputRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
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
		{"a stage condition reads outputs through dependencies, not stageDependencies", build + `
- stage: Deploy
  condition: eq(stageDependencies.Build.Build.outputs['image.imageTag'], '42')
  jobs:
  - job: A
    steps:` + canary,
			"stage Deploy condition reads stageDependencies.Build.Build.outputs['image.imageTag']: a stage condition reads stage Build's outputs as dependencies.Build.outputs['JOB.STEP.VARIABLE']"},
		{"a stage condition reading a deployment job's output", build + `
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
            inputs: {kubernetesServiceConnection: k8s, stage: Blue_0, image: acr.io/model:42}
- stage: Blue_50
  condition: eq(dependencies.Blue_0.outputs['D.D.canary.blueWeight'], '0')
  jobs:
  - job: A
    steps:` + canary, ""},
		{"a job reads another stage's outputs through stageDependencies, not dependencies", build + `
- stage: Deploy
  jobs:
  - job: A
    variables:
      tag: $[ dependencies.Build.outputs['Build.image.imageTag'] ]
    steps:` + canary,
			"stage Deploy job A variable tag reads dependencies.Build.outputs['Build.image.imageTag']: in a job, dependencies names jobs of the same stage; read stage Build's outputs as stageDependencies.Build.JOB.outputs['STEP.VARIABLE']"},
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
        stage: Blue_50
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
            inputs: {kubernetesServiceConnection: k8s, stage: Blue_0, image: acr.io/model:42}
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
            inputs: {kubernetesServiceConnection: k8s, stage: Blue_0, image: acr.io/model:42}
- stage: Blue_50
  dependsOn: Blue_0
  condition: eq(dependencies.Blue_0.outputs['D.D.canary.blueWeigth'], '0')
  jobs:
  - job: A
    steps:` + canary,
			"but step canary of stage Blue_0 job D does not set output blueWeigth"},
	})
}

// ruleCase is a pipeline and a part of the one finding it must give ("": none).
type ruleCase struct{ name, doc, want string }

// runRuleCases checks each case gives exactly the finding it wants.
func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
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
