package compare

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mlcanary/mlcanary/internal/scoringmock"
)

// TestBenchCompare measures `mlcanary compare` (the binary MLCANARY_BENCH_COMPARE names; `make
// bench-compare` builds it) on loopback against two model versions behind a header-routing server: the
// requests per second each version got and the compare process's peak memory (max RSS) at 10^4
// and at BENCH_COMPARE_BIG (10^6 by default) requests, which should be flat. Not part of make test.
func TestBenchCompare(t *testing.T) {
	bin := os.Getenv("MLCANARY_BENCH_COMPARE")
	if bin == "" {
		t.Skip("set MLCANARY_BENCH_COMPARE to an mlcanary binary (make bench-compare)")
	}
	big := 1_000_000
	if s := os.Getenv("BENCH_COMPARE_BIG"); s != "" {
		var err error
		if big, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	conc := "50"
	if s := os.Getenv("BENCH_COMPARE_C"); s != "" {
		conc = s
	}
	m := &scoringmock.Model{Weights: []float64{0.25, 0.5, -0.3}, Bias: -0.1, Threshold: 0.5, Labels: scoringmock.DefaultLabels}
	// The versions are served by one loopback server that routes on the header itself, as the
	// gateway's header routes do, without gatewaysim's proxy hop (whose own connections, two idle
	// per backend, would be what is measured).
	// Blue's scores differ from green's by 1e-12, within --abs-tolerance: answers all byte for byte
	// alike would be undecided without the routes checked (green answering both copies looks so).
	mb := &scoringmock.Model{Weights: m.Weights, Bias: m.Bias - 1e-12, Threshold: m.Threshold, Labels: m.Labels}
	versions := map[string]http.Handler{"green": scoringmock.Handler(scoringmock.Options{Model: m}), "blue": scoringmock.Handler(scoringmock.Options{Model: mb})}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := versions[r.Header.Get("x-api-version")]
		if !ok {
			http.Error(w, "no route", http.StatusNotFound)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer gw.Close()
	results := map[int][2]float64{}
	for _, n := range []int{10_000, big} {
		file := filepath.Join(t.TempDir(), "requests.jsonl")
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		for i := range n {
			_, _ = fmt.Fprintf(w, "[%g, %g, %g]\n", float64(i%1000)/1000, float64(i%77)/77, float64(i%13)/13)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
		cmd := exec.Command(bin, "compare", "--gateway", gw.URL, "--requests", file, "-c", conc, "--abs-tolerance", "1e-9", "-o", "json")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%d requests: %v\n%s", n, err, out)
		}
		var r Report
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		rss := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024 // KiB on Linux
		t.Logf("N=%d: %s in %.1fs: %.0f requests/s to each version (%.0f in all), max RSS %.1f MiB, %d agreed",
			n, r.Verdict, r.Seconds, r.Rate, 2*r.Rate, rss, r.Agreed)
		if r.Agreed != n {
			t.Errorf("%d requests: %d agreed, want all", n, r.Agreed)
		}
		results[n] = [2]float64{r.Rate, rss}
	}
	small, large := results[10_000], results[big]
	t.Logf("memory: max RSS %.1f MiB at 10^4, %.1f MiB at %d (ratio %.2fx); throughput %.0f vs %.0f requests/s per version",
		small[1], large[1], big, large[1]/small[1], small[0], large[0])
	if !strings.Contains(os.Getenv("BENCH_COMPARE_NO_LIMIT"), "1") && large[1] > 2*small[1]+16 {
		t.Errorf("memory grew with the requests: %.1f MiB at 10^4, %.1f MiB at %d", small[1], large[1], big)
	}
}
