package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// killRig is one namespace, reached through a proxy that counts a run's writes, checks the
// invariants after each one, and signals the run after its k-th.
type killRig struct {
	t    *testing.T
	e    *testenv.Env
	c    killCase
	ns   string
	k    int
	sig  syscall.Signal
	kcfg string
	// lockWrites counts the lock's create and release among the writes (not its renewals).
	lockWrites bool

	mu         sync.Mutex
	writes     int
	killAt     int // the write of the running stage after which it is signalled; 0: none
	victim     *exec.Cmd
	started    chan struct{} // closed once victim is set
	exited     chan struct{}
	signalled  time.Time
	violations []string
	// routed says which versions a route pointed at, at the last observation; unroutedAt when
	// each last lost its routes; gen and uid what its Deployment was, to see it replaced.
	routed     map[string]bool
	unroutedAt map[string]time.Time
	gen        map[string]int64
	uid        map[string]string
}

var killNamespaces atomic.Int64

func newKillRig(t *testing.T, e *testenv.Env, c killCase, k int, sig syscall.Signal, lockWrites bool) *killRig {
	r := &killRig{t: t, e: e, c: c, k: k, sig: sig, lockWrites: lockWrites, ns: fmt.Sprintf("kill-%d", killNamespaces.Add(1)),
		routed: map[string]bool{}, unroutedAt: map[string]time.Time{}, gen: map[string]int64{}, uid: map[string]string{}}
	if err := e.CreateNamespace(context.Background(), r.ns); err != nil {
		r.fatalf("%v", err)
	}
	r.kcfg = testenv.WriteKubeconfig(t, writeProxy(t, e, r.onWrite))
	return r
}

func (r *killRig) String() string {
	if r.k == 0 {
		return r.c.name + " (clean run)"
	}
	if r.lockWrites {
		return fmt.Sprintf("%s, %s after write %d (the lock's counted)", r.c.name, r.sig, r.k)
	}
	return fmt.Sprintf("%s, %s after write %d", r.c.name, r.sig, r.k)
}

// setup brings the namespace to the case's starting state, in process and without a drain.
func (r *killRig) setup() {
	cl, err := engine.NewClient(r.e.Config)
	if err != nil {
		r.fatalf("%v", err)
	}
	cl.PollInterval, cl.Drain = 20*time.Millisecond, 0
	for _, s := range r.c.before {
		if s.stage == hpaGreen {
			green := killVersions["green"].Deployment
			hpa := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
				"metadata": map[string]any{"name": green},
				"spec": map[string]any{"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": green},
					"minReplicas": int64(2), "maxReplicas": int64(5)}}}
			if _, err := r.e.Dynamic.Resource(kube.HorizontalPodAutoscalers).Namespace(r.ns).Create(context.Background(), hpa, metav1.CreateOptions{FieldManager: "kubectl"}); err != nil {
				r.fatalf("%s: %v", r, err)
			}
			continue
		}
		cfg := config.Default()
		cfg.Namespace, cfg.Image, cfg.Timeout = r.ns, s.image, time.Minute
		if cfg.Stage, err = config.ParseStage(s.stage); err != nil {
			r.fatalf("%v", err)
		}
		if _, err := cl.Stage(context.Background(), cfg, nil); err != nil {
			r.fatalf("%s: setting up %s: %v", r, s.stage, err)
		}
	}
	r.observe("the start")
}

// runStage runs the case's stage as its own process through the proxy and waits for it; when
// k > 0 the proxy signals it after its k-th write.
func (r *killRig) runStage(k int) (int, string) {
	started := make(chan struct{})
	r.mu.Lock()
	r.writes, r.killAt, r.started, r.exited = 0, k, started, make(chan struct{})
	r.mu.Unlock()
	args := []string{"stage", r.c.run.stage, "-n", r.ns, "--image=" + r.c.run.image, "--timeout=60", "--lock-timeout=60"}
	child, out := startChildEnv(r.t, []string{fmt.Sprintf("%s=%d", childLockSeconds, killLockSeconds)}, r.kcfg, "run", args...)
	r.mu.Lock()
	r.victim = child
	exited := r.exited
	r.mu.Unlock()
	close(started)
	err := child.Wait()
	close(exited)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), out.String()
	case errors.As(err, &exit):
		return -int(exit.Sys().(syscall.WaitStatus).Signal()), out.String()
	}
	r.fatalf("%s: %v", r, err)
	return 0, ""
}

// onWrite runs after each write (not the lock's unless lockWrites, not a dry run) was answered by
// the API server and before the answer returns to the run: it checks the invariants and, after
// the k-th, signals the run. A SIGKILLed run is dead before the answer could reach it; a SIGTERM's
// or SIGINT's handler gets 100ms to end the stage's context while the request is still in flight.
func (r *killRig) onWrite(method, path string, status int, sent time.Time) {
	if status >= 300 || strings.Contains(path, "/leases") && (!r.lockWrites || method == http.MethodPut) {
		return // a renewal's timing is the clock's, not the stage's
	}
	r.mu.Lock()
	r.writes++
	n, k, started, exited := r.writes, r.killAt, r.started, r.exited
	r.mu.Unlock()
	r.observeAt(fmt.Sprintf("write %d (%s %s)", n, method, path), sent)
	if k == 0 || n != k {
		return
	}
	<-started
	r.mu.Lock()
	victim := r.victim
	r.signalled = time.Now()
	r.mu.Unlock()
	_ = victim.Process.Signal(r.sig)
	wait := 100 * time.Millisecond
	if r.sig == syscall.SIGKILL {
		wait = time.Minute
	}
	select {
	case <-exited:
	case <-time.After(wait):
	}
}

// fatalf fails the test and ends this pair's goroutine (its deferred calls run).
func (r *killRig) fatalf(format string, args ...any) {
	r.t.Errorf(format, args...)
	runtime.Goexit()
}

func (r *killRig) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes
}

// killAndRerun runs the stage, signalled after its k-th write, checks what the signal left, and
// runs the stage again: it must end as the clean run did.
func (r *killRig) killAndRerun(want string) {
	r.setup()
	code, out := r.runStage(r.k)
	if n := r.count(); n < r.k {
		r.t.Errorf("%s: the run made %d writes, fewer than its clean run (exit %d)\n%s", r, n, code, out)
	}
	r.observe("right after the " + r.sig.String())
	switch {
	case r.sig == syscall.SIGKILL && code != -int(syscall.SIGKILL):
		r.t.Errorf("%s: the run was not killed (exit %d)\n%s", r, code, out)
	case r.sig != syscall.SIGKILL:
		r.mu.Lock()
		took := time.Since(r.signalled)
		r.mu.Unlock()
		if code != ExitOK && code != ExitFailed {
			r.t.Errorf("%s: exit %d; want 0 or 1\n%s", r, code, out)
		}
		if took > 10*time.Second {
			r.t.Errorf("%s: the run took %s to stop", r, took.Round(time.Millisecond))
		}
		if h := leaseHolder(r.t, r.e, r.ns); h != "" {
			r.t.Errorf("%s: the lock is still held by %q\n%s", r, h, out)
		}
	}
	code, again := r.runStage(0)
	if code != ExitOK {
		r.t.Errorf("%s: the re-run: exit %d\n%s\nthe killed run:\n%s", r, code, again, out)
	}
	r.observe("the re-run's end")
	if got := r.fingerprint(); got != want {
		r.t.Errorf("%s: after the re-run:\n%s\nwant, as after a clean run:\n%s\nthe killed run:\n%s\nthe re-run:\n%s", r, got, want, out, again)
	}
	r.report()
}

func (r *killRig) report() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.violations {
		r.t.Errorf("%s: %s", r, v)
	}
}

// cleanup deletes the namespace's Deployments, so the stand-in controller, which lists every
// Deployment of the API server, does not slow down as pairs accumulate.
func (r *killRig) cleanup() {
	_ = r.e.Dynamic.Resource(kube.Deployments).Namespace(r.ns).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{})
}

// sentAt keys the time the proxy received a request in its context.
type sentAt struct{}

// writeProxy serves the API server through a TLS proxy that authenticates as admin and calls
// onWrite after each write but a dry run was answered, before the answer returns to the client,
// with the time the proxy received the request.
func writeProxy(t *testing.T, e *testenv.Env, onWrite func(method, path string, status int, sent time.Time)) *rest.Config {
	t.Helper()
	return e.AdminProxy(t, func(resp *http.Response) error {
		req := resp.Request
		switch {
		case req.Method == http.MethodGet, strings.Contains(req.URL.RawQuery, "dryRun"),
			strings.Contains(req.URL.Path, "/apis/authorization.k8s.io/"), strings.Contains(req.URL.Path, "/apis/authentication.k8s.io/"):
			return nil
		}
		sent, _ := req.Context().Value(sentAt{}).(time.Time)
		onWrite(req.Method, req.URL.Path, resp.StatusCode, sent)
		return nil
	}, func(proxy http.Handler, w http.ResponseWriter, r *http.Request) {
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sentAt{}, time.Now())))
	})
}
