package analyze

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// promTool finds a binary of tools/prometheus built by scripts/tool.sh: the path in env (then a
// missing binary fails the test), else .cache/tools/NAME. Under -short, or when it was never built,
// the test is skipped saying how to build it. The build is not part of make test: it takes far
// longer than the other tools (see tools/prometheus/go.mod).
func promTool(t *testing.T, name, env string) string {
	t.Helper()
	build := "scripts/tool.sh prometheus github.com/prometheus/prometheus/cmd/" + name
	if testing.Short() {
		t.Skipf("-short: needs a real Prometheus (%s)", build)
	}
	bin, required := os.LookupEnv(env)
	if !required {
		bin, _ = filepath.Abs(filepath.Join("..", "..", ".cache", "tools", name))
	}
	if _, err := os.Stat(bin); err != nil {
		if required {
			t.Fatalf("%s=%s: %v (build it with %s)", env, bin, err, build)
		}
		t.Skipf("%s is not built: run %s", name, build)
	}
	return bin
}

// realPrometheus backfills the OpenMetrics text om into a TSDB with promtool (`promtool tsdb
// create-blocks-from openmetrics`), starts Prometheus on that TSDB on a free loopback port, waits
// until it is ready, and returns its URL. The process is killed when the test ends.
//
// Backfilled blocks, not remote write and not a scrape: every sample is written with the timestamp
// the test chose before Prometheus starts, so a query at a fixed time sees exactly those samples —
// no scrape timing, no ingestion race, no out-of-order window — and the counts are known in advance.
func realPrometheus(t *testing.T, om string) string {
	t.Helper()
	prometheus := promTool(t, "prometheus", "MLCANARY_PROMETHEUS")
	promtool := promTool(t, "promtool", "MLCANARY_PROMTOOL")
	dir := t.TempDir()
	input, data := filepath.Join(dir, "series.om"), filepath.Join(dir, "data")
	if err := os.WriteFile(input, []byte(om), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", input, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte("global:\n  scrape_interval: 30s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(prometheus, "--config.file="+config, "--storage.tsdb.path="+data,
		"--web.listen-address="+addr, "--storage.tsdb.retention.time=10y", "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus not ready after 60s: %v\n%s", err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// freePort is a loopback address no one listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// openMetrics builds OpenMetrics text for promtool: each series' samples together, in time order.
type openMetrics struct {
	b strings.Builder
}

// counter writes one series of name with labels, scraped every step from from to to, its value at
// each time given by value.
func (o *openMetrics) counter(name string, labels map[string]string, from, to time.Time, step time.Duration, value func(time.Time) float64) {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var ls []string
	for _, k := range keys {
		ls = append(ls, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	sel := name + "{" + strings.Join(ls, ",") + "}"
	for ts := from; !ts.After(to); ts = ts.Add(step) {
		fmt.Fprintf(&o.b, "%s %g %d\n", sel, value(ts), ts.Unix())
	}
}

// String ends the text with OpenMetrics' # EOF.
func (o *openMetrics) String() string { return o.b.String() + "# EOF\n" }
