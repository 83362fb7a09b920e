package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/azdo"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/github"
	"github.com/mlcanary/mlcanary/internal/summary"
)

func newStageCommand(s Streams, env LookupEnv) *cobra.Command {
	var f clusterFlags
	cmd := &cobra.Command{
		Use:   "stage STAGE",
		Short: "Perform one stage (" + config.StageNames + ") against the cluster",
		Long: "Perform one stage against the cluster: check its preconditions, create and wait before routing,\n" +
			"unroute before deleting. Re-running a stage that already holds changes nothing.\n\nStages: " + config.StageNames,
		Args: exactArgs(1, "one stage name ("+config.StageNames+")"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return frontend.Run(cmd.Context(), flagSource{f: &f, stage: args[0], env: env}, terminal{s: s, format: f.output}, frontend.Real)
		},
	}
	f.add(cmd)
	f.in.Stdin = s.In // --pod-template -
	return cmd
}

// flagSource is the terminal's frontend.Source: the flags, the STAGE argument as typed, and the cluster
// kubectl's way (kubeFlags).
type flagSource struct {
	f     *clusterFlags
	stage string
	env   LookupEnv
}

func (flagSource) Secrets() ([]string, error) { return nil, nil }

// Inputs are the flags; the lock's holder is the pipeline run when the CLI runs in a pipeline's
// script step, else user@host.
func (fs flagSource) Inputs() (frontend.Request, error) {
	cfg, err := fs.f.config(fs.stage)
	cfg.Lock.Holder = runIdentity(fs.env)
	return frontend.Request{Config: cfg}, err
}

// runIdentity is who this run is (frontend.Identity): an Azure Pipelines or GitHub Actions run's
// page when the environment names one, else user@host.
func runIdentity(env LookupEnv) string {
	run := azdo.ReadJob(env).RunURL()
	if run == "" {
		run = github.RunURL(env)
	}
	return frontend.Identity(run, env)
}

func (fs flagSource) Connect(context.Context, frontend.Request, func(string)) (frontend.Cluster, error) {
	rc, err := fs.f.kube.restConfig(fs.env)
	return frontend.Cluster{Config: rc}, err
}

// terminal is the CLI's frontend.Reporter: progress to Err, the result in format (-o) to Out, the
// error as one line "mlcanary: …" on Err. It sets no outputs and masks nothing (a person's own
// terminal).
type terminal struct {
	s      Streams
	format string
}

func (terminal) Mask(string)                  {}
func (terminal) Preflight() error             { return nil }
func (terminal) Begin(frontend.Part)          {}
func (terminal) End(frontend.Part)            {}
func (terminal) Output(frontend.Output) error { return nil }

func (t terminal) Logf(format string, args ...any) { progress(t.s)(format, args...) }

// Summary writes the result: a dry run's diff as plan shows it, else the result; after a failed
// stage only for -o json|yaml, so scripts see what changed before the failure.
func (t terminal) Summary(_ context.Context, o frontend.Outcome) error {
	switch {
	case o.StageErr != nil && (t.format == "json" || t.format == "yaml"):
		_ = writeResult(t.s, o.Result, t.format) // the stage's error is what the run reports
		return nil
	case o.StageErr != nil:
		return nil
	case o.Result.DryRun:
		return printPlan(t.s, o.Result, t.format, false) // a stage has no --show-secrets: its output is a log
	}
	return writeResult(t.s, o.Result, t.format)
}

// Finish prints the error, the run's one line (unprintable characters escaped).
func (t terminal) Finish(err error) {
	if err != nil {
		_, _ = fmt.Fprintf(t.s.Err, "mlcanary: %s\n", config.Printable(err.Error())) // nowhere left to report a failed write
	}
}

// writeResult renders res in format on Out.
func writeResult(s Streams, res *summary.Result, format string) error {
	text, err := summary.Render(res, format)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(s.Out, text)
	return err
}
