package benchstage

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// stageRerun is mlcanary's stage run again once it holds (counted, not timed).
const stageRerun = "mlcanary stage, re-run (holds)"

// requestCount is what one run sent: reads (GET, watches included) and writes, each request as
// "+MS METHOD path?query" in the order they reached the proxy, MS counted from the run's start
// (sent), and its method and path (requests, same order); took is the whole run, to its process's
// exit.
type requestCount struct {
	reads, writes int
	sent          []string
	requests      []request
	took          time.Duration
}

// request is one request's method and URL path.
type request struct{ method, path string }

func (c requestCount) String() string {
	return fmt.Sprintf("%d (%d + %d)", c.reads+c.writes, c.reads, c.writes)
}

// counter counts the requests passing the proxy.
type counter struct {
	mu    sync.Mutex
	n     requestCount
	start time.Time // of the run counted
}

// take returns what was counted since the last take and starts counting anew from now.
func (c *counter) take() requestCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n, c.start = requestCount{}, time.Now()
	return n
}

// countingProxy serves the API server through a TLS proxy that authenticates as the admin (in
// place of the clients' placeholder token) and counts every request; it returns the counter and a kubeconfig reaching the proxy. It serves
// until the process ends (the bench is one run).
func (b *bench) countingProxy() (*counter, string, error) {
	upstream, err := url.Parse(b.env.Config.Host)
	if err != nil {
		return nil, "", err
	}
	transport, err := rest.TransportFor(b.env.Config)
	if err != nil {
		return nil, "", err
	}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	proxy.Transport = transport
	c := &counter{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		if r.Method == http.MethodGet {
			c.n.reads++
		} else {
			c.n.writes++
		}
		line := fmt.Sprintf("%+6.1f ms  %s %s", float64(time.Since(c.start).Microseconds())/1000, r.Method, r.URL.Path)
		if r.URL.RawQuery != "" {
			line += "?" + r.URL.RawQuery
		}
		c.n.sent = append(c.n.sent, line)
		c.n.requests = append(c.n.requests, request{r.Method, r.URL.Path})
		c.mu.Unlock()
		r.Header.Del("Authorization") // the clients' placeholder token: the proxy authenticates
		proxy.ServeHTTP(w, r)
	}))
	path := b.path("kubeconfig-counted")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	// A kubeconfig without credentials makes kubectl prompt for a user name: give a placeholder.
	return c, path, writeKubeconfig(path, srv.URL, ca, nil, nil, "counted")
}

// count runs each tool's shift once more through the counting proxy (untimed): Blue_50 directly,
// then Blue_40 counted; mlcanary's Blue_40 once more, which then holds.
func (b *bench) count(ctx context.Context) (map[string]requestCount, error) {
	counts := map[string]requestCount{}
	for _, r := range runs {
		if _, err := b.run(ctx, r, 50, nil); err != nil {
			return nil, err
		}
		b.counter.take()
		took, err := b.run(ctx, r, 40, &b.proxied)
		if err != nil {
			return nil, err
		}
		n := b.counter.take()
		n.took = took
		counts[r] = n
	}
	b.counter.take()
	took, err := b.run(ctx, stageRerun, 40, &b.proxied)
	if err != nil {
		return nil, err
	}
	n := b.counter.take()
	n.took = took
	counts[stageRerun] = n
	return counts, nil
}

// readyToDone times, over the rounds, how long a stage that waits for a rollout takes to finish
// once the Deployment is ready: a first Blue_0 in a new namespace each round, whose Deployment the
// bench marks ready (as the Deployment controller would) 200 ms after it appears; the delay runs
// from the moment the bench sends that status write (taken before the request, so the write's own
// round trip is inside the delay and it can never read less than the stage's reaction) to the
// process's exit.
func (b *bench) readyToDone(ctx context.Context) ([]time.Duration, error) {
	var delays []time.Duration
	for round := range b.o.Rounds {
		ns := fmt.Sprintf("bench-wait-%d", round)
		if err := b.env.CreateNamespace(ctx, ns); err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, b.o.Mlcanary, "stage", "Blue_0", "--image", imageGreen, "--namespace", ns, "--timeout", "1m", "--kubeconfig", b.kubeconfig)
		var stderr bytes.Buffer
		cmd.Env, cmd.Stderr = append(os.Environ(), "HOME="+b.dir), &stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		deployments := b.env.Dynamic.Resource(kube.Deployments).Namespace(ns)
		var ready time.Time
		for {
			if _, err := deployments.Get(ctx, "model-blue", metav1.GetOptions{}); err == nil {
				time.Sleep(200 * time.Millisecond) // the pods start
				d, err := deployments.Get(ctx, "model-blue", metav1.GetOptions{})
				if err != nil {
					return nil, err
				}
				ready = time.Now() // before the write: its answer may come after the stage is done
				if err := b.env.MarkReady(ctx, d); err != nil {
					return nil, err
				}
				break
			}
			time.Sleep(time.Millisecond)
		}
		if err := cmd.Wait(); err != nil {
			return nil, fmt.Errorf("mlcanary stage Blue_0 in %s: %w: %s", ns, err, bytes.TrimSpace(stderr.Bytes()))
		}
		delays = append(delays, time.Since(ready))
	}
	return delays, nil
}
