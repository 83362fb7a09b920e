// Package engine performs, plans and reports stages against a cluster: it reads the live state,
// checks the stage's preconditions (package plan), and then creates, waits, routes and removes in
// make-before-break order. It is the one core the terminal, Azure DevOps and GitHub front ends share.
package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/ingress"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/plan"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Logger receives progress lines meant for a person watching the run (one line per call).
type Logger func(format string, args ...any)

// Client runs stages against one cluster.
type Client struct {
	cluster Cluster
	// PollInterval is how often a rollout is polled (default 2s; tests shorten it).
	PollInterval time.Duration
	// Now is the clock for the change record (tests fix it).
	Now func() time.Time
	// Drain is how long a version keeps its pods after its last route is removed, so the ingress
	// gateways have the new routes and requests in flight finish (default 5s).
	Drain time.Duration
	// lister finds the ingress gateway Services (package ingress); nil offline, where nothing is
	// looked for.
	lister ingress.Lister
	// hint adds to an error from an optional read what kube.Client.Hint adds; nil offline.
	hint func(context.Context, error) error
	// offline is set by Offline: the cluster is a memory.Cluster standing for one the stage would
	// run on, so the changes are worded as a plan's ("would be created"). Nothing else differs.
	offline bool
}

// NewClient prepares a Client for the cluster rc points at; it sends no request yet.
func NewClient(rc *rest.Config) (*Client, error) {
	k, err := kube.New(rc) // bounds each request and drops API warnings
	if err != nil {
		return nil, err
	}
	c := New(k)
	c.lister, c.hint = k, k.Hint
	return c, nil
}

// New prepares a Client for cluster (the API server's kube.Client, or a memory.Cluster), with the
// real clock and a drain of 5s.
func New(cluster Cluster) *Client {
	return &Client{cluster: cluster, Now: time.Now, Drain: 5 * time.Second}
}

// Stage performs cfg.Stage and returns what holds afterwards. With cfg.DryRun every write is sent
// as a server-side dry run, nothing is waited for, and the Result carries the diff. Every error
// begins with the stage's name; one from a step is a *StageError (with the Result so far), and an
// API server's refusal inside it is a *kube.APIError (kube.CauseOf).
func (c *Client) Stage(ctx context.Context, cfg config.Config, log Logger) (*summary.Result, error) {
	if log == nil {
		log = func(string, ...any) {}
	}
	if fence := fenceOf(ctx); fence != nil && !cfg.DryRun {
		return c.fencedStage(ctx, cfg, log, fence)
	}
	return c.stage(ctx, cfg, log)
}

func (c *Client) stage(ctx context.Context, cfg config.Config, log Logger) (*summary.Result, error) {
	live, p, err := c.decide(ctx, &cfg, log)
	if err != nil {
		return nil, named(cfg.Stage, err)
	}
	mesh, err := c.mesh(ctx, &cfg, p, live, log)
	if err != nil {
		return nil, named(cfg.Stage, err)
	}
	p.Notes = append(p.Notes, mesh.notes...)
	run := newExecution(c, &cfg, live, p, log)
	run.res.Warnings = append(mesh.warnings, p.Warnings...)
	if err := run.check(ctx); err != nil {
		return nil, named(cfg.Stage, err)
	}
	if err := run.steps(ctx); err != nil {
		var refused *fenceError
		if errors.Is(err, errReadAgain) { // nothing was written: the caller starts over
			return nil, err
		}
		if errors.As(err, &refused) { // nothing was written
			return nil, named(cfg.Stage, refused.err)
		}
		run.failed(ctx) // the Result says what holds now, not the stage that failed
		return run.res, &StageError{Stage: cfg.Stage, Changes: run.res.Changes, DryRun: cfg.DryRun, Err: err}
	}
	run.finish()
	return run.res, nil
}

// decide reads the cluster and plans the stage. When a version the stage needs exists but its
// rollout is still going on (someone just changed it), it waits for that rollout, writing nothing,
// and decides again; a rollout that does not finish within the timeout refuses the stage. A
// rollout the Deployment controller declared failed is not waited for: the stage is refused at
// once, naming the controller's reason and the pods' problems.
func (c *Client) decide(ctx context.Context, cfg *config.Config, log Logger) (*liveState, *plan.Plan, error) {
	for attempt := 0; ; attempt++ {
		live, err := c.observe(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		p, err := plan.Make(cfg, live.facts())
		var short *plan.PreconditionError
		if errors.As(err, &short) && short.NeedsAutoscalers && !live.autoscalersRead {
			// A capacity shortfall --capacity-check auto enforces only without an autoscaler.
			if err := c.readAutoscaled(ctx, live); err != nil {
				return nil, nil, err
			}
			p, err = plan.Make(cfg, live.facts())
		}
		if err == nil && len(p.Displaces) > 0 && !live.othersRead {
			// It would remove or replace a version: decide again knowing every route to it.
			if err := c.readOthers(ctx, live, p.Displaces); err != nil {
				return nil, nil, err
			}
			if p, err = plan.Make(cfg, live.facts()); err == nil && live.othersNote != "" {
				p.Notes = append(p.Notes, live.othersNote)
			}
			if err == nil {
				p.Notes = append(p.Notes, live.routeNotes...)
			}
		}
		if err == nil {
			var notes []string
			if notes, err = c.gatewayPeers(ctx, live, p); err != nil {
				return nil, nil, err
			}
			p.Notes = append(p.Notes, notes...)
		}
		if err == nil && live.autoscaledNote != "" {
			p.Notes = append(p.Notes, live.autoscaledNote)
		}
		var pe *plan.PreconditionError
		if !errors.As(err, &pe) || pe.Unready == "" {
			return live, p, err
		}
		if d := live.deployments[pe.Unready]; kube.RolloutOf(d).Failed {
			for _, line := range c.cluster.PodProblems(ctx, d) {
				pe.Msg += "; " + line
			}
			return live, p, err
		}
		if cfg.DryRun || attempt == len(config.Versions) {
			return live, p, err
		}
		name := cfg.Objects[pe.Unready].Deployment
		log("%s needs %s ready: waiting up to %s for Deployment %s/%s to finish its rollout", cfg.Stage, pe.Unready, cfg.Timeout, cfg.Namespace, name)
		// The plan asks for a routable version (kube.Rollout.Routable), so that is what it waits for:
		// a scale-up whose extra pods pend does not hold the stage.
		werr := c.cluster.WaitRollout(ctx, cfg.Namespace, name, kube.WaitOptions{Timeout: cfg.Timeout, Interval: c.PollInterval, Log: log, Routable: true})
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("waiting for Deployment %s/%s: %w", cfg.Namespace, name, ctx.Err())
		}
		if werr != nil && !kube.IsRolloutTimeout(werr) && !kube.IsRolloutFailed(werr) {
			return nil, nil, werr // interrupted, or the API failed: say that, not the precondition
		}
		var timeout *kube.RolloutTimeout
		if errors.As(werr, &timeout) {
			// The pods' problems, as a rollout that times out names them: a readiness probe not
			// passing says the model is still loading.
			pods := ""
			for _, line := range timeout.Pods {
				pods += "; " + line
			}
			return nil, nil, fmt.Errorf("%w (waited %s)%s", err, cfg.Timeout, pods)
		}
	}
}

// Plan reports what cfg.Stage would change on the cluster, with a diff and, in Manifests, every
// object it writes as its last server-side dry run says it would be stored: complete objects (the
// live object merged with what the stage sends, other managers' fields kept), which
// manifest.Write prints without the server's bookkeeping. It writes nothing.
func (c *Client) Plan(ctx context.Context, cfg config.Config) (*summary.Result, error) {
	cfg.DryRun = true
	rec := &recorder{Cluster: c.cluster}
	planner := *c
	planner.cluster = rec
	res, err := planner.Stage(ctx, cfg, nil)
	if res != nil {
		res.Action = "plan"
		res.Manifests = lastApplied(rec.writes, true, true)
	}
	return res, err
}

// Status reports the live stage, weights, images and readiness without writing anything.
func (c *Client) Status(ctx context.Context, cfg config.Config) (*summary.Result, error) {
	live, err := c.observeFor(ctx, &cfg, false)
	if err != nil {
		return nil, err
	}
	return statusResult(&cfg, live), nil
}
