package verify

import (
	"testing"

	"github.com/mlcanary/mlcanary/internal/golden"
	"github.com/mlcanary/mlcanary/internal/loadtest"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// sampleReport is a failed verification: routes fine, default route 90/10 against 50/50.
func sampleReport() *Report {
	z := loadtest.Z(0.99, 1)
	z2 := loadtest.Z(0.99, 2)
	route := func(v, answer string) RouteCheck {
		rt := summary.HeaderRoute{Version: v, Header: "x-api-version", Value: v, Path: "/score"}
		return RouteCheck{Route: rt, Answer: Answer{Text: answer, Learned: true}, Measurement: Measurement{
			URL:   "http://127.0.0.1:8080/score",
			Tally: loadtest.Report{Completed: 266, Answered: 266},
			Comparison: &loadtest.Comparison{Confidence: 0.99, Tolerance: 0.05, N: 266, Verdict: loadtest.Agree,
				Checks: []loadtest.Check{{Answer: answer, Expected: 1, Count: 266, Observed: 1,
					Interval: loadtest.Wilson(266, 266, z), Verdict: loadtest.Agree}}},
		}}
	}
	check := func(answer string, want float64, k int) loadtest.Check {
		return loadtest.Check{Answer: answer, Expected: want, Count: k, Observed: float64(k) / 3152,
			Interval: loadtest.Wilson(k, 3152, z2), Verdict: loadtest.Disagree}
	}
	return &Report{
		Gateway: "http://127.0.0.1:8080", Weights: summary.Weights{Green: 50, Blue: 50}, Confidence: 0.99, Tolerance: 0.05,
		Answers: map[string]Answer{"green": {"New Model A", true}, "blue": {"New Model B", true}},
		Routes:  []RouteCheck{route("blue", "New Model B"), route("green", "New Model A")},
		Default: &DefaultCheck{Measurement: Measurement{
			URL: "http://127.0.0.1:8080/score",
			Tally: loadtest.Report{Completed: 3152, Answered: 3152, Rate: 4210.4,
				Latency: loadtest.LatencySummary{P50: 1.61, P90: 2.2, P99: 4.05}},
			Comparison: &loadtest.Comparison{Confidence: 0.99, Tolerance: 0.05, N: 3152, Verdict: loadtest.Disagree,
				Checks: []loadtest.Check{check("New Model A", 0.5, 2841), check("New Model B", 0.5, 311)}},
		}},
		Problems: []string{
			`default route: "New Model A" is 90.1% of answers, expected 50.0% (off by +40.1 points)`,
			`default route: "New Model B" is 9.9% of answers, expected 50.0% (off by -40.1 points)`,
		},
	}
}

func TestMarkdownGolden(t *testing.T) {
	t.Parallel()
	failed := sampleReport()
	passed := sampleReport()
	passed.Passed, passed.Problems, passed.Default = true, nil, nil
	golden.Assert(t, "failed.md.golden", Markdown(failed))
	golden.Assert(t, "routes-only.md.golden", Markdown(passed))
}
