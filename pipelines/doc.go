// Package pipelines holds the example pipelines (abtest.yml for Azure Pipelines, github-canary.yml
// for GitHub Actions) and, in its tests, the rules their hosts apply only at run time: an Azure
// stage reads another stage's outputs only when it lists it in dependsOn, an MLCanary@1 step's
// inputs are task.json's, stage and job names are valid (azdorules_test.go, tasks_test.go). The
// GitHub workflows are linted by actionlint in `make lint`. The package has no code of its own.
package pipelines
