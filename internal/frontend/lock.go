package frontend

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/lock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// LockFunc takes the namespace's lock (cfg.Lock) for cfg's stage before the stage's first request.
// The returned context is the stage's: it ends when the lock is lost (lock.Lost). release ends the
// lock; its error says the lock could not be released (it then expires by itself).
type LockFunc func(ctx context.Context, rc *rest.Config, cfg config.Config, log engine.Logger) (stageCtx context.Context, release func() error, err error)

// TakeLock is the lock on the cluster: a coordination.k8s.io/v1 Lease of the stage's namespace
// (package lock) held for duration past each renewal (lock.DefaultDuration in the shipped binary;
// tests shorten it).
func TakeLock(duration time.Duration) LockFunc {
	return func(ctx context.Context, rc *rest.Config, cfg config.Config, log engine.Logger) (context.Context, func() error, error) {
		s, err := lock.NewStore(rc) // kube.New bounds each request and drops API warnings
		if err != nil {
			return nil, nil, err
		}
		holder := cfg.Lock.Holder
		if holder == "" {
			holder = "mlcanary"
		}
		l, stageCtx, err := lock.Take(ctx, s, lock.Options{Namespace: cfg.Namespace, Name: cfg.Lock.Name,
			Holder: lock.Holder{Run: holder, Stage: cfg.Stage.String()}, Duration: duration, Wait: cfg.Lock.Timeout, Log: log})
		if err != nil {
			return nil, nil, err
		}
		return stageCtx, l.Release, nil
	}
}

// lockedStage performs the stage holding the namespace's lock from before its first request until
// it ends, whatever its outcome (Ctrl-C and SIGTERM included: they end ctx, the stage returns, and
// the lock is released on its own deadline), and then, when req asks for it and the stage holds,
// the analysis gate and the automatic Rollback it may perform, still holding the lock
// (analyzeAfter): no other run's stage can move traffic while blue is judged or rolled back. A dry
// run writes nothing and takes no lock. A stage refused because another run holds the lock fails at
// once (exit 1) with one sentence naming the holder, its stage and since when, or waits up to
// cfg.Lock.Timeout. The stage's part of the log ends when the stage does; the analysis has its own.
func lockedStage(ctx context.Context, eng Engine, cl Cluster, req Request, rep Reporter, part Part) (*summary.Result, *Analysis, error) {
	cfg, rc, log := req.Config, cl.Config, rep.Logf
	gated := func(stageCtx context.Context) (*summary.Result, *Analysis, error) {
		res, err := eng.Stage(stageCtx, rc, cfg, log)
		if lost := lock.Lost(stageCtx); lost != nil && err != nil {
			err = fmt.Errorf("%w; %w", err, lost)
		}
		rep.End(part)
		if err != nil || res == nil || req.Analysis == nil {
			return res, nil, err
		}
		ap := Part{Kind: PartAnalysis, Stage: part.Stage, Title: "analysis after " + part.Stage + ": blue against green"}
		rep.Begin(ap)
		now, a, err := analyzeAfter(stageCtx, eng, rc, cfg, req.Analysis, cl.Identity, res, log)
		ap.Passed = a.Err == nil
		rep.End(ap)
		return now, a, err
	}
	if cfg.DryRun || eng.Lock == nil {
		return gated(ctx)
	}
	stageCtx, release, err := eng.Lock(ctx, rc, cfg, log)
	if err != nil { // before the stage's first request, as a refused precondition: "Blue_50: …"
		rep.End(part)
		return nil, nil, fmt.Errorf("%s: %w", cfg.Stage, err)
	}
	res, a, err := gated(stageCtx)
	if rerr := release(); rerr != nil {
		log("%v", rerr) // the stage's outcome stands; the lock expires by itself
	}
	return res, a, err
}

// Identity is who a run is, as the lock names its holder: runURL when the run has one (the
// pipeline run's page), else user@host, the user from the environment (USER, or USERNAME on
// Windows) and the machine's name.
func Identity(runURL string, env LookupEnv) string {
	if runURL != "" {
		return runURL
	}
	user := "unknown"
	for _, name := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v, ok := env(name); ok && v != "" {
			user = v
			break
		}
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return user + "@" + host
}
