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

// LockFunc prepares the namespace's lock (cfg.Lock) for cfg's stage; it sends nothing. The stage
// reads it before its first read and takes it before its first write (engine.Fence): a stage that
// writes nothing takes no lock. The returned context is the stage's: it ends when the lock is lost
// (lock.Lost). release ends the lock if it was taken; its error says the lock could not be
// released (it then expires by itself).
type LockFunc func(ctx context.Context, rc *rest.Config, cfg config.Config, log engine.Logger) (stageCtx context.Context, fence engine.Fence, release func() error, err error)

// TakeLock is the lock on the cluster: a coordination.k8s.io/v1 Lease of the stage's namespace
// (package lock) held for duration past each renewal (lock.DefaultDuration in the shipped binary;
// tests shorten it).
func TakeLock(duration time.Duration) LockFunc {
	return func(ctx context.Context, rc *rest.Config, cfg config.Config, log engine.Logger) (context.Context, engine.Fence, func() error, error) {
		s, err := lock.NewStore(rc) // kube.New bounds each request and drops API warnings
		if err != nil {
			return nil, nil, nil, err
		}
		holder := cfg.Lock.Holder
		if holder == "" {
			holder = "mlcanary"
		}
		stageCtx, cancel := context.WithCancelCause(ctx)
		f := &fence{store: s, cancel: cancel, o: lock.Options{Namespace: cfg.Namespace, Name: cfg.Lock.Name,
			Holder: lock.Holder{Run: holder, Stage: cfg.Stage.String()}, Duration: duration, Wait: cfg.Lock.Timeout, Log: log}}
		return stageCtx, f, f.release, nil
	}
}

// fence is the lock as an engine.Fence.
type fence struct {
	store  lock.Store
	o      lock.Options
	seen   lock.Seen
	held   *lock.Lock
	cancel context.CancelCauseFunc // the stage's context's
}

func (f *fence) Peek(ctx context.Context) (err error) {
	f.seen, err = lock.Peek(ctx, f.store, f.o)
	return err
}

func (f *fence) Busy() bool { return f.seen.Busy() != nil }

func (f *fence) Held() bool { return f.held != nil }

func (f *fence) Take(ctx context.Context) (again bool, err error) {
	l, lockCtx, fresh, err := lock.TakeSeen(ctx, f.store, f.seen)
	if err != nil {
		return false, err
	}
	f.held = l
	go func() { // the stage ends when the lock is lost (lock.Lost reads the cause)
		<-lockCtx.Done()
		f.cancel(context.Cause(lockCtx))
	}()
	return !fresh, nil
}

func (f *fence) release() error {
	if f.held == nil {
		f.cancel(nil)
		return nil
	}
	return f.held.Release()
}

// lockedStage performs the stage with the namespace's lock as its fence (engine.Fence): read before
// its first request, taken before its first write, released when it ends, whatever its outcome
// (Ctrl-C and SIGTERM included: they end ctx, the stage returns, and the lock is released on its
// own deadline). Then, when req asks for it and the stage holds, it runs the analysis gate and the
// automatic Rollback it may perform holding the lock — taken now if the stage wrote nothing, and
// the stage performed again holding it when the lock changed hands since its reads
// (analyzeAfter): no other run's stage can move traffic while blue is judged or rolled back. A dry
// run writes nothing and takes no lock. A stage that must write while another run holds the lock
// fails at once (exit 1) with one sentence naming the holder, its stage and since when, or waits
// up to cfg.Lock.Timeout. The stage's part of the log ends when the stage does; the analysis has
// its own.
func lockedStage(ctx context.Context, eng Engine, cl Cluster, req Request, rep Reporter, part Part) (*summary.Result, *Analysis, error) {
	cfg, rc, log := req.Config, cl.Config, rep.Logf
	var fence engine.Fence
	gated := func(stageCtx context.Context) (*summary.Result, *Analysis, error) {
		res, err := eng.Stage(stageCtx, rc, cfg, log)
		if err == nil && req.Analysis != nil && fence != nil && !fence.Held() {
			again, terr := fence.Take(stageCtx)
			switch {
			case terr != nil:
				res, err = nil, fmt.Errorf("%s: %w", cfg.Stage, terr)
			case again: // another run wrote since the stage's reads: perform it again, holding the lock
				res, err = eng.Stage(stageCtx, rc, cfg, log)
			}
		}
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
	stageCtx, f, release, err := eng.Lock(ctx, rc, cfg, log)
	if err != nil {
		rep.End(part)
		return nil, nil, fmt.Errorf("%s: %w", cfg.Stage, err)
	}
	fence = f
	res, a, err := gated(engine.WithFence(stageCtx, f))
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
