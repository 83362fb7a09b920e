package pipelines

import (
	"strings"
	"testing"
)

// TestAzureTaskAndNameRules gives each rule on MLCanary@1 steps, names and dependsOn a pipeline
// that breaks only it, and pipelines that hold.
func TestAzureTaskAndNameRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		// MLCanary@1 steps against task.json.
		{"an input task.json does not declare", build + `
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s, imageTags: '42', stage: Blue_50}
`, "MLCanary@1 has no input imageTags"},
		{"a radio value outside its options", build + `
    - task: MLCanary@1
      inputs: {connectionType: kubeconfig, kubernetesServiceConnection: k8s, stage: Blue_50}
`, `input connectionType: "kubeconfig" is not one of its options`},
		{"a boolean that is not true or false", build + `
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s, dryRun: maybe, stage: Blue_50}
`, `input dryRun: "maybe" is not true or false`},
		{"a boolean from a defined variable", build + `
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s, dryRun: $(DRY), stage: Blue_50}
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
      inputs: {connectionType: azureResourceManager, azureSubscriptionConnection: arm, azureResourceGroup: rg, kubernetesCluster: aks, stage: Blue_50}
`, ""},
		{"the other connection type's required inputs", build + `
    - task: MLCanary@1
      inputs: {connectionType: azureResourceManager, azureResourceGroup: rg, kubernetesCluster: aks, stage: Blue_50}
`, "MLCanary@1 needs input azureSubscriptionConnection"},
		{"a macro no variables block defines", build + `
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s, imageTag: $(imageTag), stage: Blue_50}
`, `input imageTag uses $(imageTag), which no variables block defines`},
		{"a version task.json is not", build + `
    - task: MLCanary@2
      inputs: {kubernetesServiceConnection: k8s, stage: Blue_50}
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
  inputs: {kubernetesServiceConnection: k8s, dryRun: $(DRY), stage: Blue_50}
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
	})
}

// TestAzureStageFactRules (break-it review of issue #13): a step is held to what its stage needs,
// by the stage facts mlcanary applies (plan/stage: Blue_0 needs an image), not a list of its own: a
// Blue_0 step without image or imageRepository+imageTag passed the checker and failed at run time
// with exit 2.
func TestAzureStageFactRules(t *testing.T) {
	step := func(inputs string) string {
		return build + `
- stage: Blue_0
  dependsOn: Build
  jobs:
  - job: A
    steps:
    - task: MLCanary@1
      inputs: {kubernetesServiceConnection: k8s` + inputs + `}
`
	}
	const need = "MLCanary@1 stage Blue_0 needs an image (it deploys it as blue): input image, or imageRepository and imageTag"
	runRuleCases(t, []ruleCase{
		{"Blue_0 step without any image input", build + `
- stage: Blue_0
  dependsOn: Build
  jobs:
  - job: A
    steps:
    - task: MLCanary@1
      inputs:
        kubernetesServiceConnection: k8s
        stage: Blue_0
`, "image"},
		{"no stage: task.json's default, Blue_0, needs an image", step(""), need},
		{"blue_0 in any case", step(", stage: blue_0"), need},
		{"Blue_0 with imageTag only", step(", stage: Blue_0, imageTag: '42'"), need},
		{"Blue_0 with imageRepository only", step(", stage: Blue_0, imageRepository: acr.io/model"), need},
		{"Blue_0 with image", step(", stage: Blue_0, image: acr.io/model:42"), ""},
		{"Blue_0 with imageRepository and imageTag", step(", stage: Blue_0, imageRepository: acr.io/model, imageTag: '42'"), ""},
		{"Blue_0 with an image from a variable", step(", stage: Blue_0, image: $(DRY)"), ""},
		{"a stage from a variable is decided at run time", step(", stage: $(DRY)"), ""},
		{"Blue_50 reads the images from the cluster", step(", stage: Blue_50"), ""},
		{"Rollback reads the images from the cluster", step(", stage: Rollback"), ""},
	})
}
