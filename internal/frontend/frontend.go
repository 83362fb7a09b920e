// Package frontend is the one stage run every front end shares — the terminal (mlcanary stage), the
// Azure DevOps task and the GitHub Action:
//
//	mask secrets → preflight → read inputs → connect → lock → stage → unlock → outputs → verify → compare → summary
//
// A front end differs only in a Source (where inputs and credentials come from) and a Reporter
// (how progress, outputs, the summary and the error are shown), as ko's publishers differ behind
// publish.Interface and helm's actions run the same under every command. Run returns the run's
// error; the caller hands it to Reporter.Finish, the one place that prints it.
package frontend

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/compare"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/lock"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// LookupEnv reads one environment variable (os.LookupEnv); tests inject a map instead. It is the
// one type every front end reads its environment through.
type LookupEnv func(string) (string, bool)

// Request is what a front end's inputs ask for, validated before anything is sent.
type Request struct {
	Config config.Config
	// Verify is the verification to run right after the stage; nil when none was asked for.
	Verify *verify.Options
	// Compare is the comparison of blue's answers with green's to run after verification; nil when
	// none was asked for.
	Compare *compare.StageOptions
	// Analysis is the analysis gate to run once the stage holds; nil when none was asked for.
	Analysis *analyze.Gate
}

// Cluster is a connection ready to use: the client config and, for the log, where it came from
// ("kubeconfig", "Kubernetes service connection (ServiceAccount)"; "" says nothing).
type Cluster struct {
	Config *rest.Config
	Source string
	// Identity reaches an Azure Monitor workspace for the analysis gate (the zero value:
	// azidentity's default chain); the Azure DevOps task sets its Azure Resource Manager connection's.
	Identity analyze.Identity
}

// Source is where a front end's inputs and credentials come from.
type Source interface {
	// Secrets returns every secret the process holds before anything is read (tokens, credentials
	// of the connection), also when reading them failed: they are masked before any output.
	Secrets() ([]string, error)
	// Inputs reads and validates every input. A problem is a *config.InputError naming the input as
	// the front end's user typed it (exit 2); nothing has been sent.
	Inputs() (Request, error)
	// Connect prepares the cluster the request names, passing every secret it derives (a fetched
	// token, a kubeconfig's credentials) to mask before it returns, also on error.
	Connect(ctx context.Context, req Request, mask func(string)) (Cluster, error)
}

// Reporter is how a front end shows a run. Every text it is given that did not come from mlcanary
// itself may hold anything a cluster said: a Reporter makes it safe for its medium (config.Printable,
// config.Neutralise) and redacts the secrets given to Mask.
type Reporter interface {
	// Mask registers a secret; nothing printed later may show it.
	Mask(secret string)
	// Preflight checks, before anything is read or sent, that the reporter can deliver what it
	// reports after the stage (outputs, the summary), so a stage never changes the cluster and then
	// fails on the front end's own environment. A problem is a *config.InputError naming what is
	// missing (an environment variable the runner sets) and what would do (exit 2).
	Preflight() error
	// Begin starts a part of the run (the stage, or the verification after it); End closes it.
	Begin(p Part)
	End(p Part)
	// Logf prints one progress line (an engine.Logger).
	Logf(format string, args ...any)
	// Output sets one of Outputs' values for later steps.
	Output(o Output) error
	// Summary is the run's report: what holds after the stage and what verification found. It is
	// called once, when the stage returned a result (also a failed one), before Finish.
	Summary(ctx context.Context, o Outcome) error
	// Finish ends the run: err is its error (nil when it succeeded), printed here and nowhere else.
	Finish(err error)
}

// Outcome is what a stage that returned a result established.
type Outcome struct {
	// Result is what holds now; after a failed stage, what it left (traffic on something that works).
	Result *summary.Result
	// StageErr is the stage's error; nil when the stage holds.
	StageErr error
	// Verify is the verification after the stage (empty when none was asked for or it was skipped).
	Verify verify.Outcome
	// Compare is the comparison after verification (empty when none was asked for).
	Compare compare.Outcome
	// Analysis is what the analysis gate after the stage found and did; nil when none ran.
	Analysis *Analysis
}

// Front is a front end that reads its own inputs and reports its own way (the Azure DevOps task,
// the GitHub Action).
type Front interface {
	Source
	Reporter
}

// Part is a part of a run a Reporter may set apart (a log group, a progress step).
type Part struct {
	Kind PartKind
	// Stage is the stage's name (PartStage only).
	Stage string
	// Title is one line saying what happens, e.g. "Blue_50 in namespace scoring" or the gateway's URL.
	Title string
	// Through is where the connection came from (PartStage only), "" when it says nothing.
	Through string
	// Passed says traffic matched the live routes (PartVerify, at End).
	Passed bool
}

// PartKind tells the parts of a run apart.
type PartKind int

// The parts of a run: the stage, the analysis gate (under the stage's lock), verification, then the comparison.
const (
	PartStage    PartKind = iota // the stage itself; its Logf lines are the engine's
	PartVerify                   // measuring traffic through the gateway after a stage that held
	PartCompare                  // comparing blue's answers with green's after verification (Passed: blue agrees)
	PartAnalysis                 // judging blue against green after a stage that held (Passed: the gate passed)
)

// Engine performs a stage and measures traffic; Real is the engine against the cluster, tests pass
// fakes so a front end is tested without one.
type Engine struct {
	Stage  StageFunc
	Verify VerifyFunc
	// Lock takes the namespace's lock before a stage that writes; nil takes none (tests of a
	// front end without a cluster).
	Lock LockFunc
	// Analyze is the analysis gate (nil: Analyze).
	Analyze AnalyzeFunc
	// Status reads the live state, which versions are ready (nil: none is read, so a failed
	// automatic Rollback leaves traffic as the stage put it).
	Status StatusFunc
	// VirtualService reads the live VirtualService compare's requests go through after a stage (nil:
	// VirtualServiceOf, the cluster's).
	VirtualService VirtualServiceFunc
}

// VirtualServiceFunc reads the VirtualService cfg names in the cluster rc points at: its object, or
// nil when it does not exist.
type VirtualServiceFunc func(ctx context.Context, rc *rest.Config, cfg config.Config) (map[string]any, error)

// VirtualServiceOf reads cfg's VirtualService from the cluster rc points at.
func VirtualServiceOf(ctx context.Context, rc *rest.Config, cfg config.Config) (map[string]any, error) {
	kc, err := kube.New(rc)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	vs, err := kc.Get(ctx, kube.VirtualServices, cfg.Namespace, cfg.VirtualService) // its error names the object
	if err != nil {
		return nil, err
	}
	if vs == nil {
		return nil, nil
	}
	return vs.Object, nil
}

// StatusFunc reads the live state of the objects cfg names in the cluster rc points at.
type StatusFunc func(ctx context.Context, rc *rest.Config, cfg config.Config) (*summary.Result, error)

// StageFunc performs cfg.Stage against the cluster rc points at, logging progress to log.
type StageFunc func(ctx context.Context, rc *rest.Config, cfg config.Config, log engine.Logger) (*summary.Result, error)

// VerifyFunc measures traffic through the gateway against the live routes of the cluster rc points at.
type VerifyFunc func(ctx context.Context, rc *rest.Config, cfg config.Config, o verify.Options) (*verify.Report, error)

// Real is the engine: the stage, holding the namespace's lock, and verify.Check against the
// cluster rc points at.
var Real = Engine{Stage: perform, Verify: check, Lock: TakeLock(lock.DefaultDuration), Analyze: Analyze, Status: status}

func status(ctx context.Context, rc *rest.Config, cfg config.Config) (*summary.Result, error) {
	c, err := engine.NewClient(rc)
	if err != nil {
		return nil, err
	}
	return c.Status(ctx, cfg)
}

func perform(ctx context.Context, rc *rest.Config, cfg config.Config, log engine.Logger) (*summary.Result, error) {
	c, err := engine.NewClient(rc)
	if err != nil {
		return nil, err
	}
	return c.Stage(ctx, cfg, log)
}

func check(ctx context.Context, rc *rest.Config, cfg config.Config, o verify.Options) (*verify.Report, error) {
	c, err := engine.NewClient(rc)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return verify.Check(ctx, c, cfg, o)
}

// Run performs one stage as src asks and reports it through rep, and returns the run's error for
// rep.Finish: a reporter that could not deliver (rep.Preflight) or bad input (a *config.InputError,
// exit 2) before anything is sent; a failed stage,
// connection or verification otherwise (exit 1). The stage's error begins with the stage's name
// (the engine's rule); nothing here adds it again. A stage that returned a result — also a failed
// one, which says what holds now — always gets its outputs and summary.
func Run(ctx context.Context, src Source, rep Reporter, eng Engine) error {
	secrets, err := src.Secrets()
	for _, s := range secrets { // before anything else is printed, even when reading them failed
		rep.Mask(s)
	}
	if err != nil {
		return err
	}
	if err := rep.Preflight(); err != nil {
		return err
	}
	req, err := src.Inputs()
	if err != nil {
		return err
	}
	go engine.Warm() // while the kubeconfig is read and the first requests are in flight
	cl, err := src.Connect(ctx, req, rep.Mask)
	if err != nil {
		return err
	}
	cfg := req.Config
	part := Part{Kind: PartStage, Stage: cfg.Stage.String(), Title: fmt.Sprintf("%s in namespace %s", cfg.Stage, cfg.Namespace), Through: cl.Source}
	rep.Begin(part)
	res, analyzed, stageErr := lockedStage(ctx, eng, cl, req, rep, part)
	if res == nil {
		return stageErr
	}
	// The outputs are set before verifying, so a later stage can read what holds whatever verify finds.
	for _, o := range append(Outputs(res), Output{Name: OutputDecision, Value: analyzed.Decision()}) {
		if err := rep.Output(o); err != nil {
			return err
		}
	}
	checked := verifyAfter(ctx, rep, req, cl, res, stageErr, eng)
	if err := rep.Output(Output{Name: OutputVerified, Value: checked.Verified()}); err != nil {
		return err
	}
	compared := compareAfter(ctx, rep, req, res, stageErr, checked, func(ctx context.Context) (*compare.Live, error) {
		read := eng.VirtualService
		if read == nil {
			read = VirtualServiceOf
		}
		vs, err := read(ctx, cl.Config, cfg)
		if err != nil {
			return nil, err
		}
		return compare.NewLive(&cfg, vs), nil
	})
	if err := rep.Output(Output{Name: OutputAgreement, Value: compared.Agreement()}); err != nil {
		return err
	}
	if err := rep.Summary(ctx, Outcome{Result: res, StageErr: stageErr, Verify: checked, Compare: compared, Analysis: analyzed}); err != nil {
		return err
	}
	if stageErr != nil {
		return stageErr
	}
	if err := analyzed.err(); err != nil {
		return err
	}
	if checked.Err != nil {
		return checked.Err
	}
	return compared.Err
}

// compareAfter runs the comparison the request asks for (compare.AfterStage, checking the routes of
// the VirtualService live reads) in its own part of the log, which ends with the verdict.
func compareAfter(ctx context.Context, rep Reporter, req Request, res *summary.Result, stageErr error, checked verify.Outcome, live compare.ReadLive) compare.Outcome {
	if !compare.WillRun(req.Compare, res, stageErr, checked) {
		return compare.AfterStage(ctx, req.Compare, res, stageErr, checked, live)
	}
	part := Part{Kind: PartCompare, Title: fmt.Sprintf("%d requests from %s through %s", req.Compare.Requests.Count,
		req.Compare.Requests.Name, checked.Report.Gateway)}
	rep.Begin(part)
	out := compare.AfterStage(ctx, req.Compare, res, stageErr, checked, live)
	part.Passed = out.Err == nil
	rep.End(part)
	return out
}

// verifyAfter runs the verification the request asks for (verify.AfterStage) in its own part of
// the log, which ends with the verdict.
// After Shadow_N, an analysis source of Istio's metrics also counts the mirror's copies
// (analyze.Copies); without one the report says they were not counted.
func verifyAfter(ctx context.Context, rep Reporter, req Request, cl Cluster, res *summary.Result, stageErr error, eng Engine) verify.Outcome {
	rc := cl.Config
	checker := func(ctx context.Context, o verify.Options) (*verify.Report, error) {
		return eng.Verify(ctx, rc, req.Config, o)
	}
	if req.Verify != nil && req.Analysis != nil && res != nil && res.Mirror > 0 {
		if copies, err := analyze.Copies(req.Analysis.Inputs, req.Config, cl.Identity); err == nil && copies != nil {
			o := *req.Verify
			o.Copies = copies
			req.Verify = &o
		}
	}
	if !verify.WillRun(req.Verify, res, stageErr) {
		return verify.AfterStage(ctx, req.Verify, res, stageErr, checker)
	}
	title := config.RedactedURL(verify.BaseURL(req.Verify.Gateway))
	if req.Verify.Gateway == verify.AutoGateway {
		title = "the ingress gateway's load balancer (auto)"
	}
	part := Part{Kind: PartVerify, Title: title}
	rep.Begin(part)
	out := verify.AfterStage(ctx, req.Verify, res, stageErr, checker)
	part.Passed = out.Err == nil
	rep.End(part)
	return out
}
