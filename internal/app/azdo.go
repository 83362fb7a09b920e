package app

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/azdo"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// runAzureDevOps is the MLCanary@1 task: the agent starts the binary (through task/index.js) with
// no arguments and everything in the environment. Results go to the agent as logging commands on
// s.Out; a failure is reported with task.logissue and task.complete and also sets the exit code.
func runAzureDevOps(ctx context.Context, s Streams, env LookupEnv) int {
	log := azdo.NewLog(s.Out)
	job := azdo.ReadJob(azdo.LookupEnv(env))
	// Mask first: nothing may be printed before every secret the process holds is registered.
	log.SetSecret(job.AccessToken)
	for _, secret := range azdo.ConnectionSecrets(azdo.LookupEnv(env)) {
		log.SetSecret(secret)
	}
	res, err := azureStage(ctx, log, job, env)
	if res != nil {
		// A failed stage still says what holds now; only a stage that holds is tagged.
		reportAzure(ctx, log, job, res, err == nil)
	}
	if err != nil {
		err = azdo.RenameInput(err)
		log.Error(err.Error())
		log.Complete("Failed", err.Error())
		return ExitCode(err)
	}
	log.Complete("Succeeded", fmt.Sprintf("%s holds: green %d%%, blue %d%%", res.Stage, res.Weights.Green, res.Weights.Blue))
	return ExitOK
}

// azureStage reads the inputs and the service connection and performs the stage.
func azureStage(ctx context.Context, log *azdo.Log, job azdo.Job, env LookupEnv) (*summary.Result, error) {
	var in config.Inputs
	fs := pflag.NewFlagSet("azure-devops", pflag.ContinueOnError)
	in.AddFlags(fs)
	task, err := azdo.ReadInputs(azdo.LookupEnv(env), fs)
	if err != nil {
		return nil, err
	}
	cfg, err := in.Config(task.Stage)
	if err != nil {
		return nil, err
	}
	cfg.ChangedBy = job.RunURL()
	if cfg.ChangedBy == "" {
		cfg.ChangedBy = "azure-devops"
	}
	// Connect before printing anything: an AKS connection yields new secrets (the kubeconfig's
	// credentials, an Entra ID token) that must be masked first.
	cluster, err := azureCluster(ctx, log, job, task.Connection, env)
	if err != nil {
		return nil, err
	}
	log.Progress(10, "Connected")
	log.Printf("mlcanary: %s in namespace %s through %s", cfg.Stage, cfg.Namespace, cluster.Source)
	client, err := engine.NewClient(cluster.Config)
	if err != nil {
		return nil, err
	}
	log.Progress(30, "Performing "+cfg.Stage.String())
	return client.Stage(ctx, cfg, log.Printf)
}

func azureCluster(ctx context.Context, log *azdo.Log, job azdo.Job, conn azdo.Connection, env LookupEnv) (azdo.Cluster, error) {
	var c azdo.Cluster
	var err error
	if conn.Type == azdo.ConnectionAzureRM {
		c, err = azdo.AzureCluster(ctx, azdo.LookupEnv(env), conn, job, log.SetSecret, nil)
	} else {
		c, err = azdo.KubernetesCluster(azdo.LookupEnv(env), conn.Endpoint)
	}
	for _, s := range c.Secrets {
		log.SetSecret(s)
	}
	if err != nil {
		return c, &clusterError{err: err}
	}
	return c, nil
}

// clusterError is a connection that cannot be turned into a client; it exits 1 like any failure.
type clusterError struct{ err error }

func (e *clusterError) Error() string { return "connecting to the cluster: " + e.err.Error() }
func (e *clusterError) Unwrap() error { return e.err }

// reportAzure posts the run summary, sets the output variables and, when tag is set, tags the run
// with the stage. Only the summary and outputs matter to later steps; a failed tag is a warning.
func reportAzure(ctx context.Context, log *azdo.Log, job azdo.Job, res *summary.Result, tag bool) {
	log.Progress(90, "Reporting")
	if path, err := job.WriteSummary("summary", summary.Markdown(res)); err != nil {
		log.Warning(err.Error())
	} else {
		log.AddSummary("MLCanary "+res.Stage, path)
	}
	for _, o := range azdo.Outputs(res) {
		log.SetOutput(o.Key, o.Value)
	}
	if !tag || res.Stage == "" || res.DryRun {
		return
	}
	if err := job.TagBuild(ctx, res.Stage, nil); err != nil {
		log.Warning(err.Error())
	}
}
