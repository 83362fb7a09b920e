package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/azdo"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/github"
	"github.com/mlcanary/mlcanary/internal/summary"
)

func newStageCommand(s Streams, env LookupEnv) *cobra.Command {
	var f clusterFlags
	var an analyze.StageInputs
	cmd := &cobra.Command{
		Use:   "stage STAGE",
		Short: "Perform one stage (" + config.StageNames + ") against the cluster",
		Long: "Perform one stage against the cluster: check its preconditions, create and wait before routing,\n" +
			"unroute before deleting. Re-running a stage that already holds changes nothing.\n\n" +
			"With --analysis (Shadow_N, Blue_N, Blue_100), once the stage holds, judge blue against green as `mlcanary analyze`\n" +
			"does, from the change the stage recorded, holding the namespace's lock: a degraded blue is rolled back\n" +
			"at once (--on-degraded rollback) and the stage exits 1, as it does when the window ends undecided\n" +
			"(--on-undecided fail).\n\nStages: " + config.StageNames,
		Args: exactArgs(1, "one stage name ("+config.StageNames+")"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return frontend.Run(cmd.Context(), flagSource{f: &f, an: &an, stage: args[0], env: env}, terminal{s: s, format: f.output}, stageEngine())
		},
	}
	f.add(cmd)
	an.AddFlags(cmd.Flags())
	f.in.Stdin = s.In // --pod-template -
	return cmd
}

// flagSource is the terminal's frontend.Source: the flags, the STAGE argument as typed, and the cluster
// kubectl's way (kubeFlags).
type flagSource struct {
	f     *clusterFlags
	an    *analyze.StageInputs
	stage string
	env   LookupEnv
}

// stageEngine is the engine every stage front end runs (frontend.Real as it is now, so tests that
// shorten its lock see it), with the analysis gate's default identity for an Azure Monitor
// workspace (defaultIdentity, which tests replace) unless the front end gives its own credential.
func stageEngine() frontend.Engine {
	e := frontend.Real
	e.Analyze = func(ctx context.Context, cfg config.Config, in analyze.Inputs, changedAt time.Time, id analyze.Identity) (analyze.Outcome, error) {
		def := defaultIdentity()
		if id.Credential == nil {
			id.Credential = def.Credential
		}
		if id.Transport == nil {
			id.Transport = def.Transport
		}
		measure, settings, err := analyze.Prepare(in, cfg, changedAt, id)
		if err != nil {
			return analyze.Outcome{}, err
		}
		if analysisClock != nil {
			analysisClock(&settings)
		}
		return analyze.Run(ctx, measure, settings)
	}
	return e
}

// analysisClock, when set (by tests), replaces the clock of the gate's settings, so a window of
// minutes passes at once.
var analysisClock func(*analyze.Settings)

func (flagSource) Secrets() ([]string, error) { return nil, nil }

// Inputs are the flags; the lock's holder is the pipeline run when the CLI runs in a pipeline's
// script step, else user@host.
func (fs flagSource) Inputs() (frontend.Request, error) {
	cfg, err := fs.f.config(fs.stage)
	cfg.Lock.Holder = runIdentity(fs.env)
	if err != nil {
		return frontend.Request{Config: cfg}, err
	}
	gate, err := fs.an.Gate(cfg.Stage, cfg.DryRun)
	return frontend.Request{Config: cfg, Analysis: gate}, err
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
// stage only for -o json|yaml, so scripts see what changed before the failure. The analysis gate's
// report follows the result (text, markdown), or is its "analysis" field (json, yaml).
func (t terminal) Summary(_ context.Context, o frontend.Outcome) error {
	switch {
	case o.StageErr != nil && (t.format == "json" || t.format == "yaml"):
		_ = writeStageResult(t.s, o, t.format) // the stage's error is what the run reports
		return nil
	case o.StageErr != nil:
		return nil
	case o.Result.DryRun && t.format != "json" && t.format != "yaml":
		if err := printPlan(t.s, o.Result, t.format, false); err != nil { // a stage has no --show-secrets: its output is a log
			return err
		}
		return writeAnalysis(t.s, o.Analysis, t.format)
	case o.Result.DryRun && o.Analysis == nil:
		return printPlan(t.s, o.Result, t.format, false)
	}
	return writeStageResult(t.s, o, t.format)
}

// writeStageResult renders the stage's result in format on Out, with the analysis gate's evidence.
func writeStageResult(s Streams, o frontend.Outcome, format string) error {
	if o.Analysis == nil || (format != "json" && format != "yaml") {
		if err := writeResult(s, o.Result, format); err != nil {
			return err
		}
		return writeAnalysis(s, o.Analysis, format)
	}
	withAnalysis := struct {
		*summary.Result
		Analysis any `json:"analysis"`
	}{o.Result, o.Analysis.JSON()}
	var data []byte
	var err error
	if format == "json" {
		data, err = json.MarshalIndent(withAnalysis, "", "  ")
		data = append(data, '\n')
	} else {
		data, err = yaml.Marshal(withAnalysis)
	}
	if err != nil {
		return err
	}
	_, err = s.Out.Write(data)
	return err
}

// writeAnalysis prints the analysis gate's report after the stage's summary, for a person: text
// as analyze prints it, or the run summary's Markdown section.
func writeAnalysis(s Streams, a *frontend.Analysis, format string) error {
	if a == nil {
		return nil
	}
	if format == "markdown" {
		_, err := fmt.Fprint(s.Out, "\n"+a.Markdown())
		return err
	}
	if a.Report == nil || (format != "text" && format != "") {
		return nil
	}
	_, _ = fmt.Fprintln(s.Out)
	return analyze.WriteText(s.Out, *a.Report)
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
