package benchstage

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// results is what a bench run measured: each timed run's durations by round (times[r][i] is round
// i's), the counted runs' requests, the rollout waits' ready → done delays, and the machine's load
// average before the setup and after the last measure.
type results struct {
	times              map[string][]time.Duration
	counts             map[string]requestCount
	delays             []time.Duration
	loadStart, loadEnd load
}

// ratio is one goal of issue #12 on a ratio of two timed runs, paired by round.
type ratio struct {
	name     string
	num, den string  // runs: num's time / den's time in each round
	goal     float64 // ≥ goal (atLeast) or ≤ goal (atMost)
	atMost   bool
}

var ratios = []ratio{
	{name: "kubectl apply / mlcanary stage", num: runKubectl, den: runStage, goal: goalKubectl},
	{name: "helm upgrade / mlcanary stage", num: runHelm, den: runStage, goal: goalHelm},
	{name: "crowded / empty namespace", num: runScale, den: runStage, goal: goalScale, atMost: true},
}

// report prints res: the machine's load, each run's median, min and max and requests, the request
// counts against #12's targets with their purposes, each ratio's median over the rounds' paired
// ratios with its 95 % interval and a verdict from the interval (see medianInterval, atLeast), the
// requests of mlcanary's counted runs in order, and the ready → done delays.
func report(out io.Writer, o Options, res results) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	say(out, "\nload average at start: %s; at end: %s\n", res.loadStart, res.loadEnd)
	if res.loadStart.busy() || res.loadEnd.busy() {
		say(out, "WARNING: the load average exceeded the number of CPUs: other processes competed for the machine, the times\n"+
			"         are slower and spread wider than on a quiet machine, and a verdict may be undecided.\n")
	}
	say(out, "\nthe same traffic shift (Blue_50 <-> Blue_40), %d rounds each, one API server, whole process each time\n", o.Rounds)
	say(out, "%-42s %10s %10s %10s   %s\n", "", "median", "min", "max", "requests per run (reads + writes)")
	for _, r := range runs {
		ts := res.times[r]
		if len(ts) == 0 {
			say(out, "%-42s %10s %10s %10s   %s\n", r, "-", "-", "-", res.counts[r])
			continue
		}
		say(out, "%-42s %10s %10s %10s   %s\n", r, ms(median(ts)), ms(slices.Min(ts)), ms(slices.Max(ts)), res.counts[r])
	}
	say(out, "%-42s %10s %10s %10s   %s\n", stageRerun, "", "", "", res.counts[stageRerun])

	say(out, "\nmlcanary's requests against #12's targets (all requests, the lock's included):\n")
	for _, line := range requestVerdicts(res.counts) {
		say(out, "%s\n", line)
	}

	say(out, "\nratios paired by round (the runs of a round ran back to back), median of the rounds' ratios and its\n"+
		"distribution-free 95%% interval (order statistics of the binomial, Conover 1999 §3.2); a goal is met only\n"+
		"when the whole interval meets it, NOT met only when none of it does:\n")
	say(out, "  %-32s %8s  %-16s  %-11s %s\n", "", "median", "interval", "min–max", "goal")
	for _, q := range ratios {
		rs := pairedRatios(res.times[q.num], res.times[q.den])
		iv := medianInterval(rs)
		verdict, goal := atLeast(iv, q.goal), fmt.Sprintf("≥ %g×", q.goal)
		if q.atMost {
			verdict, goal = atMost(iv, q.goal), fmt.Sprintf("≤ %g×", q.goal)
		}
		spread := "-"
		if len(rs) > 0 {
			spread = fmt.Sprintf("%.1f–%.1f×", slices.Min(rs), slices.Max(rs))
		}
		say(out, "  %-32s %7.2f×  [%5.2f×, %5.2f×]  %-11s %s: %s\n", q.name, iv.Median, iv.Lo, iv.Hi, spread, goal, verdict)
	}
	if iv := medianInterval(pairedRatios(res.times[runKubectl], res.times[runStage])); iv.N > 0 {
		say(out, "  (interval: order statistics %d and %d of %d rounds, coverage %.1f%%)\n", iv.K, iv.N+1-iv.K, iv.N, 100*iv.Coverage)
	}
	m := func(r string) float64 { return float64(median(res.times[r])) }
	if len(res.times[runStage]) > 0 {
		say(out, "  ratios of the medians, for reference (no verdict): kubectl %.1f×, helm %.1f×, crowded %.2f×; crowded: %d each of\n"+
			"  unrelated Deployments, Services, VirtualServices\n",
			m(runKubectl)/m(runStage), m(runHelm)/m(runStage), m(runScale)/m(runStage), o.Unrelated)
	}

	for _, r := range []string{runStage, stageRerun} {
		say(out, "\n%s sent, in order, through the counting proxy (time from the process's start):\n", r)
		for _, line := range res.counts[r].sent {
			say(out, "  %s\n", line)
		}
		say(out, "  %+6.1f ms  exit\n", float64(res.counts[r].took.Microseconds())/1000)
	}
	if len(res.delays) > 0 {
		ds := make([]float64, len(res.delays))
		for i, d := range res.delays {
			ds[i] = float64(d)
		}
		iv := medianInterval(ds)
		say(out, "\nrollout wait (first Blue_0), from the bench sending the status write that makes the Deployment ready to the\n"+
			"stage's process exiting: median %s (95%% interval %s–%s), min %s, max %s\n",
			ms(median(res.delays)), ms(time.Duration(iv.Lo)), ms(time.Duration(iv.Hi)), ms(slices.Min(res.delays)), ms(slices.Max(res.delays)))
	}
}
