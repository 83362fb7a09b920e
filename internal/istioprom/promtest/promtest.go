// Package promtest runs a real Prometheus 3.16 for tests and the demo: the server and promtool
// built from the Go module proxy by scripts/tool.sh (tools/prometheus), fed either by series
// backfilled with promtool (every sample at a time the test chose) or by scraping /metrics endpoints
// on loopback (gatewaysim's Istio metrics), on a free loopback port. It also stands in for an Azure
// Monitor workspace's query endpoint in front of that server (azure.go). Test support only.
package promtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Env names the variables that give the binaries' paths; make test sets them, and a binary they
// name must exist.
var Env = map[string]string{"prometheus": "MLCANARY_PROMETHEUS", "promtool": "MLCANARY_PROMTOOL"}

// Build is the command that builds name ("prometheus" or "promtool"), run from the repository.
func Build(name string) string {
	return "scripts/tool.sh prometheus github.com/prometheus/prometheus/cmd/" + name
}

// ErrNotBuilt is Find's error when no variable names the binary and scripts/tool.sh has not linked
// it into the repository's .cache/tools.
var ErrNotBuilt = errors.New("not built")

// Find returns the path of name ("prometheus" or "promtool"): the one its Env variable names (then it
// must exist), else the repository's .cache/tools/NAME, which scripts/tool.sh links; ErrNotBuilt when
// neither is there.
func Find(name string) (string, error) {
	if bin, ok := os.LookupEnv(Env[name]); ok {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s=%s: %w (build it with %s)", Env[name], bin, err, Build(name))
		}
		return bin, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".cache", "tools", name)
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s is %w: run %s", name, ErrNotBuilt, Build(name))
	}
	return bin, nil
}

// repoRoot is the nearest directory up from the working directory holding this module's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/mlcanary/mlcanary\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the mlcanary repository")
		}
		dir = parent
	}
}

// Options say what the server holds.
type Options struct {
	// Backfill is OpenMetrics text (each series' samples together, in time order, ending "# EOF")
	// written into the TSDB by `promtool tsdb create-blocks-from openmetrics` before the server starts.
	Backfill string
	// Targets are host:port addresses scraped at /metrics every ScrapeInterval (default 1s), as job
	// "istio".
	Targets        []string
	ScrapeInterval time.Duration
}

// Server is a running Prometheus.
type Server struct {
	// URL is its HTTP API's base URL, http://127.0.0.1:PORT.
	URL  string
	cmd  *exec.Cmd
	logs *logBuffer
}

// logBuffer is the server's output, written by its process and read by tests.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start backfills, writes the configuration and starts Prometheus in dir (which the caller removes),
// and waits up to a minute until it is ready.
func Start(ctx context.Context, dir string, o Options) (*Server, error) {
	prometheus, err := Find("prometheus")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if o.Backfill != "" {
		promtool, err := Find("promtool")
		if err != nil {
			return nil, err
		}
		input := filepath.Join(dir, "series.om")
		if err := os.WriteFile(input, []byte(o.Backfill), 0o644); err != nil {
			return nil, err
		}
		if out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", input, data).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("promtool: %w\n%s", err, out)
		}
	}
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte(configFor(o)), 0o644); err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + addr, logs: &logBuffer{}}
	s.cmd = exec.Command(prometheus, "--config.file="+config, "--storage.tsdb.path="+data,
		"--web.listen-address="+addr, "--storage.tsdb.retention.time=10y", "--log.level=warn")
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.SysProcAttr = procAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
			err = fmt.Errorf("/-/ready answered %s", resp.Status)
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Stop()
			return nil, fmt.Errorf("prometheus not ready: %w\n%s", err, s.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// configFor is the server's configuration: one scrape job of the targets, if any.
func configFor(o Options) string {
	every := o.ScrapeInterval
	if every <= 0 {
		every = time.Second
	}
	c := fmt.Sprintf("global:\n  scrape_interval: %s\n  scrape_timeout: %s\n", every, every)
	if len(o.Targets) > 0 {
		c += fmt.Sprintf("scrape_configs:\n  - job_name: istio\n    static_configs:\n      - targets: ['%s']\n", strings.Join(o.Targets, "', '"))
	}
	return c
}

// Stop kills the server and waits for it.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// Logs is what the server printed (warnings and errors).
func (s *Server) Logs() string { return s.logs.String() }

// Run starts a server for t and stops it when t ends. Under -short, or when the binaries were never
// built and no variable names them, t is skipped saying how to build them; a variable naming a
// missing binary fails t.
func Run(t testing.TB, o Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: needs a real Prometheus (%s)", Build("prometheus"))
	}
	s, err := Start(context.Background(), t.TempDir(), o)
	if errors.Is(err, ErrNotBuilt) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// freePort is a loopback address no one listens on.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// WaitScraped waits until the server has scraped target (host:port) successfully at or after
// after, reading the raw samples of `up{instance="TARGET"}[1m]` every 100ms (a scrape's time is
// when it began), for at most timeout: a fixed sleep is not enough on a loaded machine, where a
// scrape may come late or time out.
func (s *Server) WaitScraped(ctx context.Context, target string, after time.Time, timeout time.Duration) error {
	q := url.Values{"query": {fmt.Sprintf("up{instance=%q}[1m]", target)}}
	deadline := time.Now().Add(timeout)
	for {
		var last float64 // the time of the last successful scrape, Unix seconds
		resp, err := http.Get(s.URL + "/api/v1/query?" + q.Encode())
		if err == nil {
			var body struct {
				Data struct {
					Result []struct {
						Values [][2]any `json:"values"`
					} `json:"result"`
				} `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			_ = resp.Body.Close()
			for _, r := range body.Data.Result {
				for _, v := range r.Values {
					if ts, ok := v[0].(float64); ok && v[1] == "1" {
						last = max(last, ts)
					}
				}
			}
		}
		if last > 0 && !time.UnixMilli(int64(last*1000)).Before(after) {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("the last successful scrape began at %s", time.UnixMilli(int64(last*1000)).Format(time.RFC3339Nano))
			}
			return fmt.Errorf("%s not scraped since %s within %s: %w", target, after.Format(time.RFC3339Nano), timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
