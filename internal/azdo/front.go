package azdo

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/compare"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Front is the MLCanary@1 task as a front end of the stage pipeline: a frontend.Source reading
// the task's inputs and service connection from the agent's environment, and a frontend.Reporter
// writing logging commands to the task's stdout (masks, progress, output variables, the attached
// summary, a build tag, and the error as one issue that fails the task).
type Front struct {
	env  frontend.LookupEnv
	log  *Log
	job  Job
	task Task
	res  *summary.Result // what the last stage left, for the completion message
	// outputs is set once the first output variable is, so "Reporting" shows once.
	outputs bool
	// azureOpts configures the HTTP pipelines to Microsoft Entra ID and Azure Resource Manager (nil
	// in production; tests reach local stand-ins through it).
	azureOpts *azcore.ClientOptions
}

var _ frontend.Front = (*Front)(nil)

// NewFront reads the job's context from env; logging commands go to out (the task's stdout).
func NewFront(env frontend.LookupEnv, out io.Writer) *Front {
	return &Front{env: env, log: NewLog(out), job: ReadJob(env)}
}

// Secrets are the job's access token, every service connection's credentials the agent passed, and
// the Prometheus API's token and password inputs.
func (f *Front) Secrets() ([]string, error) {
	return append([]string{f.job.AccessToken, input(f.env, InputPrometheusToken), input(f.env, InputPrometheusPassword)},
		ConnectionSecrets(f.env)...), nil
}

// Inputs reads and validates every task input through the CLI's own flags (config.Inputs,
// verify.StageInputs and analyze.StageInputs), before anything is sent. A problem is a *config.InputError naming the
// task's input (imageTag, not image-tag). The run is recorded on the cluster as the run's link.
func (f *Front) Inputs() (frontend.Request, error) {
	var in config.Inputs
	var vin verify.StageInputs
	var cin compare.StageInputs
	var ain analyze.StageInputs
	fs := pflag.NewFlagSet("azure-devops", pflag.ContinueOnError)
	in.AddFlags(fs)
	vin.AddFlags(fs)
	cin.AddFlags(fs)
	ain.AddFlags(fs)
	var req frontend.Request
	task, err := ReadInputs(f.env, fs)
	if err != nil {
		return req, RenameInput(err)
	}
	f.task = task
	if req.Config, err = in.Config(task.Stage); err != nil {
		return req, RenameInput(err)
	}
	if req.Verify, err = vin.Options(req.Config.Hosts); err != nil {
		return req, RenameInput(err)
	}
	if req.Compare, err = cin.Options(req.Config, vin.Gateway); err != nil {
		return req, RenameInput(err)
	}
	ain.SetSecrets(input(f.env, InputPrometheusToken), input(f.env, InputPrometheusPassword))
	if req.Analysis, err = ain.Gate(req.Config.Stage, req.Config.DryRun); err != nil {
		return req, RenameInput(err)
	}
	if req.Config.ChangedBy = f.job.RunURL(); req.Config.ChangedBy == "" {
		req.Config.ChangedBy = "azure-devops"
	}
	req.Config.Lock.Holder = frontend.Identity(f.job.RunURL(), f.env)
	return req, nil
}

// Connect turns the service connection into a client config: a Kubernetes connection's
// credentials, or an AKS cluster's fetched through an Azure Resource Manager connection (whose
// token and kubeconfig are masked as soon as they are known). With an Azure Resource Manager
// connection, the analysis after the stage asks Microsoft Entra ID for an Azure Monitor
// workspace's tokens with that connection's credential; otherwise with azidentity's default chain.
func (f *Front) Connect(ctx context.Context, _ frontend.Request, mask func(string)) (frontend.Cluster, error) {
	conn := f.task.Connection
	var c Cluster
	var err error
	if conn.Type == ConnectionAzureRM {
		c, err = AzureCluster(ctx, f.env, conn, f.job, mask, f.azureOpts)
	} else {
		c, err = KubernetesCluster(f.env, conn.Endpoint)
	}
	for _, s := range c.Secrets {
		mask(s)
	}
	if err != nil {
		return frontend.Cluster{}, fmt.Errorf("connecting to the cluster: %w", err)
	}
	cl := frontend.Cluster{Config: c.Config, Source: c.Source}
	if cred := c.Credential; cred != nil {
		// An Azure Monitor workspace is queried as the connection's identity, as the cluster is reached.
		cl.Identity.Credential = func() (azcore.TokenCredential, error) { return cred, nil }
	}
	return cl, nil
}

// Mask registers a secret with the agent's masker (task.setsecret).
func (f *Front) Mask(secret string) { f.log.SetSecret(secret) }

// Preflight needs nothing: logging commands go to stdout, and a summary the agent's temporary
// directory cannot take is a warning, not a failure of the run.
func (f *Front) Preflight() error { return nil }

// Begin shows a part of the run as the step's progress and a log line.
func (f *Front) Begin(p frontend.Part) {
	switch p.Kind {
	case frontend.PartStage:
		f.log.Progress(10, "Connected")
		f.log.Printf("mlcanary: %s through %s", p.Title, p.Through)
		f.log.Progress(30, "Performing "+p.Stage)
	case frontend.PartAnalysis:
		f.log.Progress(50, "Analyzing blue against green")
		f.log.Printf("mlcanary: %s", p.Title)
	case frontend.PartVerify:
		f.log.Progress(80, "Verifying traffic")
		f.log.Printf("mlcanary: verifying traffic through %s", p.Title)
	case frontend.PartCompare:
		f.log.Progress(90, "Comparing answers")
		f.log.Printf("mlcanary: comparing blue's answers with green's on %s", p.Title)
	}
}

// End shows nothing: the summary says how each part ended.
func (f *Front) End(frontend.Part) {}

// Logf writes a plain log line, neutralised and redacted.
func (f *Front) Logf(format string, args ...any) { f.log.Printf(format, args...) }

// Output sets the output variable of the task's name (greenWeight for green-weight).
func (f *Front) Output(o frontend.Output) error {
	if !f.outputs {
		f.outputs = true
		f.log.Progress(70, "Reporting")
	}
	f.log.SetOutput(frontend.TaskName(o.Name), o.Value)
	return nil
}

// Summary tags a run whose stage holds with the stage (a failed tag is a warning) and attaches the
// run summary: the stage's, then the analysis gate's evidence, then what verification found (or
// why it was skipped). It is written
// once, complete, because the agent uploads the file it is given.
func (f *Front) Summary(ctx context.Context, o frontend.Outcome) error {
	res := o.Result
	f.res = res
	if o.StageErr == nil && res.Stage != "" && !res.DryRun {
		if err := f.job.TagBuild(ctx, res.Stage, nil); err != nil {
			f.log.Warning(err.Error())
		}
	}
	for _, w := range res.Warnings { // on the run's summary page too, not only in the attachment
		f.log.Warning(config.Printable(w))
	}
	md := summary.Markdown(res)
	if a := o.Analysis.Markdown(); a != "" {
		md = strings.TrimRight(md, "\n") + "\n\n" + a
	}
	if v := o.Verify.Markdown(); v != "" {
		md = strings.TrimRight(md, "\n") + "\n\n" + v
	}
	if c := o.Compare.Markdown(); c != "" {
		md = strings.TrimRight(md, "\n") + "\n\n" + c
	}
	if path, err := f.job.WriteSummary("summary", md); err != nil {
		f.log.Warning(err.Error())
	} else {
		f.log.AddSummary("MLCanary "+res.Stage, path)
	}
	return nil
}

// Finish completes the task: a failure is one error issue and the task's Failed result, both the
// error's one line (config.Printable, as every front end prints it); success says what holds.
func (f *Front) Finish(err error) {
	if err != nil {
		line := config.Printable(err.Error())
		f.log.Error(line)
		f.log.Complete("Failed", line)
		return
	}
	msg := "the stage holds"
	if r := f.res; r != nil {
		msg = fmt.Sprintf("%s holds: green %d%%, blue %d%%", r.Stage, r.Weights.Green, r.Weights.Blue)
	}
	f.log.Complete("Succeeded", msg)
}
