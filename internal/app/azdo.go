package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/azdo"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
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
	run, err := azureStage(ctx, log, job, env)
	if run.res != nil {
		// A failed stage still says what holds now; only a stage that holds is tagged. The outputs
		// are set before verifying, so a later Rollback stage can read them whatever verify finds.
		reportAzure(ctx, log, job, run.res, err == nil)
		checked := azureVerify(ctx, log, run, err)
		postSummary(log, job, run.res, checked)
		if err == nil {
			err = checked.Err
		}
	}
	if err != nil {
		err = azdo.RenameInput(err)
		line := config.Printable(err.Error()) // the same one line the CLI and the GitHub Action print
		log.Error(line)
		log.Complete("Failed", line)
		return ExitCode(err)
	}
	res := run.res
	log.Complete("Succeeded", fmt.Sprintf("%s holds: green %d%%, blue %d%%", res.Stage, res.Weights.Green, res.Weights.Blue))
	return ExitOK
}

// azureRun is what a task run established: the stage's result and what verifying it needs.
type azureRun struct {
	res    *summary.Result
	cfg    config.Config
	verify *verify.Options // nil: no verifyGateway
	rc     *rest.Config
}

// azureVerify runs the verification the Verification inputs ask for after a stage that held, and
// sets the verified output ("" when none ran).
func azureVerify(ctx context.Context, log *azdo.Log, run azureRun, stageErr error) verify.Outcome {
	if verify.WillRun(run.verify, run.res, stageErr) {
		log.Progress(80, "Verifying traffic")
		log.Printf("mlcanary: verifying traffic through %s", verify.BaseURL(run.verify.Gateway))
	}
	out := verify.AfterStage(ctx, run.verify, run.res, stageErr, func(ctx context.Context, o verify.Options) (*verify.Report, error) {
		return engineVerify(ctx, run.rc, run.cfg, o)
	})
	log.SetOutput(azdo.OutputVerified, out.Verified())
	return out
}

// azureInputs reads and validates every task input through the CLI's own flags, before anything
// is sent; any problem is a *config.InputError naming the flag (RenameInput gives the task's name).
func azureInputs(env LookupEnv) (azdo.Task, azureRun, error) {
	var in config.Inputs
	var vin verify.StageInputs
	fs := pflag.NewFlagSet("azure-devops", pflag.ContinueOnError)
	in.AddFlags(fs)
	vin.AddFlags(fs)
	task, err := azdo.ReadInputs(azdo.LookupEnv(env), fs)
	if err != nil {
		return task, azureRun{}, err
	}
	run := azureRun{}
	if run.cfg, err = in.Config(task.Stage); err != nil {
		return task, run, err
	}
	run.verify, err = vin.Options(run.cfg.Hosts)
	return task, run, err
}

// azureStage reads the inputs and the service connection and performs the stage.
func azureStage(ctx context.Context, log *azdo.Log, job azdo.Job, env LookupEnv) (azureRun, error) {
	task, run, err := azureInputs(env)
	if err != nil {
		return run, err
	}
	run.cfg.ChangedBy = job.RunURL()
	if run.cfg.ChangedBy == "" {
		run.cfg.ChangedBy = "azure-devops"
	}
	// Connect before printing anything: an AKS connection yields new secrets (the kubeconfig's
	// credentials, an Entra ID token) that must be masked first.
	cluster, err := azureCluster(ctx, log, job, task.Connection, env)
	if err != nil {
		return run, err
	}
	run.rc = cluster.Config
	log.Progress(10, "Connected")
	log.Printf("mlcanary: %s in namespace %s through %s", run.cfg.Stage, run.cfg.Namespace, cluster.Source)
	client, err := engine.NewClient(cluster.Config)
	if err != nil {
		return run, err
	}
	log.Progress(30, "Performing "+run.cfg.Stage.String())
	run.res, err = client.Stage(ctx, run.cfg, log.Printf)
	return run, err
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

// reportAzure sets the output variables and, when tag is set, tags the run with the stage. Only
// the outputs matter to later steps; a failed tag is a warning.
func reportAzure(ctx context.Context, log *azdo.Log, job azdo.Job, res *summary.Result, tag bool) {
	log.Progress(70, "Reporting")
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

// postSummary attaches the run summary: the stage's, then what verification found (or why it was
// skipped). It is written once, complete, because the agent uploads the file it is given.
func postSummary(log *azdo.Log, job azdo.Job, res *summary.Result, checked verify.Outcome) {
	md := summary.Markdown(res)
	if v := checked.Markdown(); v != "" {
		md = strings.TrimRight(md, "\n") + "\n\n" + v
	}
	if path, err := job.WriteSummary("summary", md); err != nil {
		log.Warning(err.Error())
	} else {
		log.AddSummary("MLCanary "+res.Stage, path)
	}
}
