package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/lock"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// writeLog records, in the order they reach the API server, the writes of several runs, each
// through its own proxy (tagged with the run's name).
type writeLog struct {
	mu     sync.Mutex
	writes []string // "run METHOD path"
}

// kubeconfig is a kubeconfig reaching the API server through a proxy that records run's writes.
func (w *writeLog) kubeconfig(t *testing.T, e *testenv.Env, run string) string {
	rc := e.RaceProxy(t, func(r *http.Request) bool {
		if r.Method != http.MethodGet {
			w.mu.Lock()
			w.writes = append(w.writes, run+" "+r.Method+" "+r.URL.Path)
			w.mu.Unlock()
		}
		return false
	}, func() {})
	return testenv.WriteKubeconfig(t, rc)
}

func (w *writeLog) of(run string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.writes {
		if strings.HasPrefix(s, run+" ") {
			out = append(out, strings.TrimPrefix(s, run+" "))
		}
	}
	return out
}

// runAs runs the CLI as user (USER, so the lock's holder is user@host) with kubeconfig.
func runAs(user, kubeconfig string, args ...string) (int, string, string) {
	return runCLIEnv(map[string]string{"KUBECONFIG": kubeconfig, "USER": user}, args...)
}

func leaseHolder(t *testing.T, e *testenv.Env, ns string) string {
	t.Helper()
	u, err := e.Dynamic.Resource(lock.Leases).Namespace(ns).Get(context.Background(), "mlcanary", metav1.GetOptions{})
	if err != nil {
		return ""
	}
	id, _, _ := unstructured.NestedString(u.Object, "spec", "holderIdentity")
	return id
}

// waitHolder waits until the lock of ns is held by holder.
func waitHolder(t *testing.T, e *testenv.Env, ns, holder string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); leaseHolder(t, e, ns) != holder; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the lock of %s never held by %q (now %q)", ns, holder, leaseHolder(t, e, ns))
		}
	}
}

func host(t *testing.T) string {
	h, err := os.Hostname()
	check(t, err)
	return h
}

// TestTwoStagesStartedTogether: two runs start a stage in one namespace at the same moment. One
// takes the lock and proceeds; the other fails at its first write (exit 1) with one line naming the
// holder, its stage and since when, having written nothing but its attempt at the lock. While the first
// waits for its rollout, status shows who holds the lock, and a dry run and a plan go on without
// it (they take none); once the first run ends the lock is free.
func TestTwoStagesStartedTogether(t *testing.T) {
	e := shared.Env(t)
	ctrl := e.StartController(t)
	ns := "lock-together"
	check(t, e.CreateNamespace(context.Background(), ns))
	ctrl.Hold(ns, "model-blue")
	var log writeLog
	runs := map[string]string{"alice": log.kubeconfig(t, e, "alice"), "bob": log.kubeconfig(t, e, "bob")}
	type outcome struct {
		code     int
		out, err string
	}
	results := map[string]outcome{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for user, kc := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code, out, errs := runAs(user, kc, "stage", "Blue_0", "-n", ns, "--image="+causeImage, "--timeout=60")
			mu.Lock()
			results[user] = outcome{code, out, errs}
			mu.Unlock()
		}()
	}
	close(start)
	// The loser returns at once; the winner waits for blue's rollout, which the controller holds.
	var winner, loser string
	for deadline := time.Now().Add(30 * time.Second); loser == ""; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		for user := range results {
			loser = user
		}
		mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("neither run returned while the other held the lock")
		}
	}
	winner = map[string]string{"alice": "bob", "bob": "alice"}[loser]
	holder := winner + "@" + host(t)
	waitHolder(t, e, ns, holder+" Blue_0")

	mu.Lock()
	lost := results[loser]
	mu.Unlock()
	want := fmt.Sprintf("mlcanary: Blue_0: another run holds the lock of namespace %s: Lease %s/mlcanary is held by %s for stage Blue_0 since ", ns, ns, holder)
	// Both read the cluster before either writes, so the loser may have printed its reads' progress
	// lines (the ingress gateway found) before its one line of error.
	lines := strings.Split(strings.TrimSuffix(lost.err, "\n"), "\n")
	last := lines[len(lines)-1]
	if lost.code != ExitFailed || !strings.HasPrefix(last, want) || strings.Count(lost.err, "mlcanary: ") != 1 ||
		!strings.HasSuffix(last, "; run the stage again once that stage ends (a killed run's lock is taken over 30s after its last renewal), or give lock-timeout (lockTimeout in Azure DevOps) to wait for it") {
		t.Errorf("the second run: exit %d, stderr %q\nwant exit 1 and one line starting %q", lost.code, lost.err, want)
	}
	if got := log.of(loser); len(got) != 1 || got[0] != "POST /apis/coordination.k8s.io/v1/namespaces/"+ns+"/leases" {
		t.Errorf("the second run wrote %q; want only its attempt at the lock", got)
	}

	// status shows the holder; a dry run and a plan take no lock, so the held one does not stop them.
	code, out, errs := runAs("carol", runs[loser], "status", "-n", ns)
	if code != ExitOK || !strings.Contains(out, "locked: Lease "+ns+"/mlcanary is held by "+holder+" for stage Blue_0 since ") {
		t.Errorf("status: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runAs("carol", runs[loser], "status", "-n", ns, "-o", "json")
	var st struct {
		Lock struct{ Lease, Holder, Stage string }
	}
	check(t, json.Unmarshal([]byte(out), &st))
	if code != ExitOK || st.Lock.Lease != ns+"/mlcanary" || st.Lock.Holder != holder || st.Lock.Stage != "Blue_0" {
		t.Errorf("status -o json: exit %d, lock %+v\n%s", code, st.Lock, errs)
	}
	before := len(log.of(loser))
	for _, args := range [][]string{{"stage", "Blue_0", "--dry-run"}, {"plan", "Blue_0"}} {
		code, _, errs := runAs("carol", runs[loser], append(args, "-n", ns, "--image="+causeImage)...)
		if code != ExitOK || strings.Contains(errs, "the lock") {
			t.Errorf("%s while the lock is held: exit %d\n%s", args, code, errs)
		}
	}
	for _, w := range log.of(loser)[before:] {
		if strings.Contains(w, "/leases") {
			t.Errorf("a dry run or plan wrote to the lock: %s", w)
		}
	}

	ctrl.Release(ns, "model-blue")
	wg.Wait()
	if won := results[winner]; won.code != ExitOK {
		t.Fatalf("the first run: exit %d\n%s", won.code, won.err)
	}
	w := log.of(winner)
	if len(w) < 3 || w[0] != "POST /apis/coordination.k8s.io/v1/namespaces/"+ns+"/leases" || w[len(w)-1] != "PUT /apis/coordination.k8s.io/v1/namespaces/"+ns+"/leases/mlcanary" {
		t.Errorf("the first run's writes %q: want the lock taken first and released last", w)
	}
	if h := leaseHolder(t, e, ns); h != "" {
		t.Errorf("after the stage the lock is still held by %q", h)
	}
}

// childArgs holds, separated by a unit separator (0x1f), the arguments of the test binary re-executed as the CLI (TestMain).
const childArgs = "MLCANARY_TEST_CHILD_ARGS"

// childLockSeconds, when set, is the lock's duration in seconds of a CLI re-executed by a test
// (runChild); 3 when it is not.
const childLockSeconds = "MLCANARY_TEST_CHILD_LOCK_SECONDS"

// runChild runs the CLI as the shipped binary does (SIGINT and SIGTERM end its context), with the
// lock's duration shortened (to 3s, or childLockSeconds) so a test can watch a killed holder's lock
// expire.
func runChild(args string) int {
	d := 3 * time.Second
	if n, err := strconv.Atoi(os.Getenv(childLockSeconds)); err == nil && n > 0 {
		d = time.Duration(n) * time.Second
	}
	frontend.Real.Lock = frontend.TakeLock(d)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, StdStreams(), strings.Split(args, "\x1f"), os.LookupEnv)
}

// startChild starts the CLI with args in a process of its own, as user.
func startChild(t *testing.T, kubeconfig, user string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	return startChildEnv(t, nil, kubeconfig, user, args...)
}

// startChildEnv is startChild with env (NAME=value) added to the process's environment.
func startChildEnv(t *testing.T, env []string, kubeconfig, user string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(args, "\x1f"), "KUBECONFIG="+kubeconfig, "USER="+user)
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	check(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, &stderr
}

// TestKilledHolderIsTakenOver: a run holding the lock (its process renewing a 3s lease while it
// waits for a rollout, well past that duration) is killed with SIGKILL, so it never releases it.
// Until then a second run is refused at once; after, the next run with a lock timeout takes the
// lock over once 3s have passed since the last renewal, saying so in one line, and completes.
func TestKilledHolderIsTakenOver(t *testing.T) {
	e := shared.Env(t)
	ctrl := e.StartController(t)
	ns := "lock-killed"
	check(t, e.CreateNamespace(context.Background(), ns))
	ctrl.Hold(ns, "model-blue")
	admin := e.Kubeconfig(t)
	child, out := startChild(t, admin, "killed", "stage", "Blue_0", "-n", ns, "--image="+causeImage, "--timeout=120")
	killed := "killed@" + host(t)
	waitHolder(t, e, ns, killed+" Blue_0")
	time.Sleep(7 * time.Second) // over 2 lease durations: only renewals keep it

	code, _, errs := runAs("next", admin, "stage", "Blue_0", "-n", ns, "--image="+causeImage)
	if code != ExitFailed || !strings.Contains(errs, "is held by "+killed+" for stage Blue_0 since ") {
		t.Fatalf("while the holder runs: exit %d\n%s", code, errs)
	}
	check(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	if h := leaseHolder(t, e, ns); h != killed+" Blue_0" {
		t.Fatalf("after SIGKILL the lock is held by %q; want the killed run's, never released\n%s", h, out)
	}
	ctrl.Release(ns, "model-blue")
	start := time.Now()
	code, _, errs = runAs("next", admin, "stage", "Blue_0", "-n", ns, "--image="+causeImage, "--timeout=60", "--lock-timeout=30")
	took := time.Since(start)
	t.Logf("exit %d after %s:\n%s", code, took, errs)
	want := "took over the lock Lease " + ns + "/mlcanary from " + killed + " for stage Blue_0, held since "
	if code != ExitOK || strings.Count(errs, want) != 1 || !strings.Contains(errs, "ago, past its 3s duration (a killed run?)\n") {
		t.Errorf("the next run: exit %d\n%s\nwant exit 0 and one line %q…", code, errs, want)
	}
	if took > 15*time.Second {
		t.Errorf("the takeover took %s; want about the 3s lease", took)
	}
	if h := leaseHolder(t, e, ns); h != "" {
		t.Errorf("after the next run the lock is held by %q", h)
	}
}

// TestLockTimeoutWaitsForTheFirstRun: with --lock-timeout a second run waits while the first holds
// the lock and proceeds as soon as it ends: none of its writes comes before the first run released
// the lock.
func TestLockTimeoutWaitsForTheFirstRun(t *testing.T) {
	e := shared.Env(t)
	ctrl := e.StartController(t)
	ns := "lock-wait"
	check(t, e.CreateNamespace(context.Background(), ns))
	ctrl.Hold(ns, "model-blue")
	var log writeLog
	alice, bob := log.kubeconfig(t, e, "alice"), log.kubeconfig(t, e, "bob")
	first := make(chan string)
	go func() {
		code, _, errs := runAs("alice", alice, "stage", "Blue_0", "-n", ns, "--image="+causeImage, "--timeout=60")
		first <- fmt.Sprintf("exit %d\n%s", code, errs)
	}()
	waitHolder(t, e, ns, "alice@"+host(t)+" Blue_0")
	second := make(chan string)
	go func() {
		code, _, errs := runAs("bob", bob, "stage", "Blue_50", "-n", ns, "--image="+causeImage, "--timeout=60", "--lock-timeout=1m")
		second <- fmt.Sprintf("exit %d\n%s", code, errs)
	}()
	time.Sleep(2 * time.Second)
	select {
	case got := <-second:
		t.Fatalf("the second run did not wait: %s", got)
	default:
	}
	ctrl.Release(ns, "model-blue")
	if got := <-first; !strings.HasPrefix(got, "exit 0\n") {
		t.Fatalf("the first run: %s", got)
	}
	got := <-second
	if !strings.HasPrefix(got, "exit 0\n") || !strings.Contains(got, "waiting up to 1m0s for the lock: Lease "+ns+"/mlcanary is held by alice@"+host(t)+" for stage Blue_0 since ") ||
		!strings.Contains(got, "took the lock Lease "+ns+"/mlcanary after waiting ") {
		t.Fatalf("the second run: %s", got)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	released := -1 // alice's last write of the Lease: renewals are updates too, the release the last
	for i, w := range log.writes {
		if w == "alice PUT /apis/coordination.k8s.io/v1/namespaces/"+ns+"/leases/mlcanary" {
			released = i
		}
	}
	for i, w := range log.writes {
		if strings.HasPrefix(w, "bob ") && !strings.Contains(w, "/leases") && (released < 0 || i < released) {
			t.Fatalf("bob wrote %q before alice released the lock: %q", w, log.writes)
		}
	}
}

// TestSIGTERMReleasesTheLock: the agent cancels a run with SIGINT or SIGTERM. The stage stops
// (exit 1) while it waits for its rollout, and the lock is released on the way out, so the next run
// takes it at once.
func TestSIGTERMReleasesTheLock(t *testing.T) {
	e := shared.Env(t)
	ctrl := e.StartController(t)
	ns := "lock-sigterm"
	check(t, e.CreateNamespace(context.Background(), ns))
	ctrl.Hold(ns, "model-blue")
	admin := e.Kubeconfig(t)
	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		// Each run gives blue a new image, so it writes (taking the lock) before it waits for its
		// rollout: a stage that only waits for a rollout someone else started writes nothing, and
		// holds no lock, until then.
		image := fmt.Sprintf("%s-%d", causeImage, i)
		child, out := startChild(t, admin, "cancelled", "stage", "Blue_0", "-n", ns, "--image="+image, "--timeout=120")
		waitHolder(t, e, ns, "cancelled@"+host(t)+" Blue_0")
		check(t, child.Process.Signal(sig))
		err := child.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != ExitFailed {
			t.Errorf("%s: %v; want exit 1\n%s", sig, err, out)
		}
		if h := leaseHolder(t, e, ns); h != "" {
			t.Errorf("after %s the lock is still held by %q\n%s", sig, h, out)
		}
	}
	ctrl.Release(ns, "model-blue")
	if code, _, errs := runAs("next", admin, "stage", "Blue_0", "-n", ns, "--image="+causeImage, "--timeout=60"); code != ExitOK || strings.Contains(errs, "the lock") {
		t.Errorf("the next run: exit %d\n%s", code, errs)
	}
}
