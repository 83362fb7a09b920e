// Package benchstage is `make bench-stage`: on one local API server (kube-apiserver + etcd with
// Istio's CRDs, internal/testenv) it times the same traffic shift (Blue_50 <-> Blue_40) made three
// ways, each on its own copy of the documented objects in its own namespace, whole process each
// time, interleaved round by round: `helm upgrade --install` of a chart holding the objects
// (testdata/chart), `kubectl apply --server-side` of the same objects, and `mlcanary stage`. It also
// times mlcanary's stage in a namespace holding 2,000 unrelated Deployments, Services and
// VirtualServices, and, for a rollout wait, the delay from the Deployment becoming ready to the stage
// being done. It prints medians, min/max, the requests each sends (through a counting proxy, in a
// separate untimed run, with #12's targets and a verdict) and, for each goal, the median of the
// rounds' paired ratios with a distribution-free 95 % interval: a goal is "met" only when the whole
// interval meets it, "NOT met" when none of it does, else undecided. Claims are ratios measured
// together, never absolute numbers; the machine's load average at start and end is printed with
// them. It is a development tool; nothing ships it.
package benchstage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mlcanary/mlcanary/internal/testenv"
)

// Options are the tools to time and how often.
type Options struct {
	// Mlcanary, Helm and Kubectl are the binaries (make bench-stage builds them).
	Mlcanary, Helm, Kubectl string
	// Rounds is how many times each is timed (at least 10; cmd/benchstage's default is 25: the 95 %
	// interval of a median is then its 8th to 18th round of 25, against the 4th to 12th of 15).
	Rounds int
	// Unrelated is how many Deployments, Services and VirtualServices (each) the scale namespace
	// holds besides the release (2,000).
	Unrelated int
	// Chart is the chart's directory (testdata/chart).
	Chart string
}

// The goals of issue #12, as ratios of medians measured in the same run.
const (
	goalKubectl = 6.0  // kubectl apply's median / mlcanary's
	goalHelm    = 12.0 // helm upgrade's median / mlcanary's
	goalScale   = 1.5  // mlcanary's median with the unrelated objects / in an empty namespace
)

// Run starts the API server, sets the namespaces up, times, prints to out and stops what it started.
func Run(ctx context.Context, out io.Writer, o Options) (err error) {
	if o.Rounds < 10 {
		return fmt.Errorf("rounds: %d, need at least 10", o.Rounds)
	}
	for name, path := range map[string]string{"mlcanary": o.Mlcanary, "helm": o.Helm, "kubectl": o.Kubectl} {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s binary: %w (make bench-stage builds it)", name, err)
		}
	}
	loadStart := readLoad()
	env, err := testenv.New(testenv.Options{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Stop()) }()
	dir, err := os.MkdirTemp("", "mlcanary-bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	b := &bench{env: env, o: o, dir: dir, out: out}
	if err := b.setup(ctx); err != nil {
		return err
	}
	say(out, "timing %d rounds, interleaved, whole process each time…\n", o.Rounds)
	times, err := b.time(ctx)
	if err != nil {
		return err
	}
	counts, err := b.count(ctx)
	if err != nil {
		return err
	}
	say(out, "measuring a rollout wait: Deployment ready → stage done, %d rounds…\n", o.Rounds)
	delays, err := b.readyToDone(ctx)
	if err != nil {
		return err
	}
	report(out, o, results{times: times, counts: counts, delays: delays, loadStart: loadStart, loadEnd: readLoad()})
	return nil
}

// The timed runs, in the order of the report.
const (
	runHelm    = "helm upgrade --install"
	runKubectl = "kubectl apply --server-side"
	runStage   = "mlcanary stage"
	runScale   = "mlcanary stage, crowded namespace"
)

var runs = []string{runHelm, runKubectl, runStage, runScale}

// time runs every tool once per round, in a rotating order, toggling Blue_50 and Blue_40.
func (b *bench) time(ctx context.Context) (map[string][]time.Duration, error) {
	times := map[string][]time.Duration{}
	// One untimed warm-up each: helm's and kubectl's discovery caches are warm afterwards, as on a
	// machine that ran them before (in mlcanary's disfavour).
	for _, r := range runs {
		if _, err := b.run(ctx, r, 40, nil); err != nil {
			return nil, err
		}
	}
	for round := range b.o.Rounds {
		weight := 50
		if round%2 == 1 {
			weight = 40
		}
		for i := range runs {
			r := runs[(round+i)%len(runs)]
			took, err := b.run(ctx, r, weight, nil)
			if err != nil {
				return nil, err
			}
			times[r] = append(times[r], took)
		}
	}
	return times, nil
}

type bench struct {
	env *testenv.Env
	o   Options
	dir string
	out io.Writer
	// kubeconfig reaches the API server directly; proxied through the counting proxy (count).
	kubeconfig, proxied string
	counter             *counter
}

func (b *bench) path(name string) string { return filepath.Join(b.dir, name) }

// say prints one formatted piece of the report (a failed write to the terminal is not the bench's
// concern).
func say(out io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(out, format, args...) }
