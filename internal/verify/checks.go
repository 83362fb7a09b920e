package verify

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/loadtest"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// checkRoute asks one header route. When the route's version has no known answer, the most common
// answer becomes it (and is recorded in answers as learned); either way every answer must be it.
func checkRoute(ctx context.Context, base string, rt summary.HeaderRoute, o Options, answers map[string]Answer) (RouteCheck, error) {
	header := http.Header{}
	header.Set(rt.Header, rt.Value)
	url := base + rt.Path
	known, ok := answers[rt.Version]
	var want []loadtest.Expectation
	if ok {
		want = []loadtest.Expectation{{Answer: known.Text, Share: 1}}
	}
	n := o.RouteRequests
	if n <= 0 {
		n = loadtest.SampleSize([]float64{1}, o.Confidence, o.Tolerance)
	}
	m, err := measure(ctx, url, header, n, want, o)
	if err != nil {
		return RouteCheck{}, err
	}
	if !ok && m.Tally.Answered > 0 {
		known = Answer{Text: m.Tally.Answers[0].Answer, Learned: true}
		answers[rt.Version] = known
		c := loadtest.Compare(m.tally, []loadtest.Expectation{{Answer: known.Text, Share: 1}}, o.Confidence, o.Tolerance)
		m.Comparison = &c
	}
	what := fmt.Sprintf("header route %s (%s: %s on %s)", rt.Version, rt.Header, rt.Value, rt.Path)
	return RouteCheck{Route: rt, Answer: known, Measurement: m, Problems: problemsOf(what, m, o)}, nil
}

// checkDefault measures the default route against the weights' expected shares.
func checkDefault(ctx context.Context, url string, want []loadtest.Expectation, o Options) (DefaultCheck, error) {
	m, err := measure(ctx, url, nil, o.Requests, want, o)
	if err != nil {
		return DefaultCheck{}, err
	}
	return DefaultCheck{Expected: want, Measurement: m, Problems: problemsOf("default route", m, o)}, nil
}

// distinctAnswers reports when both versions answer alike: then no split can be measured.
func distinctAnswers(answers map[string]Answer) []string {
	g, okG := answers[string(config.Green)]
	b, okB := answers[string(config.Blue)]
	if okG && okB && g.Text == b.Text {
		return []string{fmt.Sprintf("green and blue both answer %q, so their traffic cannot be told apart "+
			"(a header route may reach the wrong version, or both run the same image)", g.Text)}
	}
	return nil
}

// expectations turns the weights into expected shares per answer. A version with weight but no
// known answer makes the split unmeasurable, which is a problem rather than a pass.
func expectations(w summary.Weights, answers map[string]Answer) ([]loadtest.Expectation, []string) {
	if w.Green+w.Blue <= 0 {
		return nil, []string{fmt.Sprintf("the weights (green %d, blue %d) send traffic nowhere", w.Green, w.Blue)}
	}
	var want []loadtest.Expectation
	var problems []string
	for _, v := range config.Versions {
		weight := w.Green
		if v == config.Blue {
			weight = w.Blue
		}
		a, ok := answers[string(v)]
		switch {
		case ok:
			want = append(want, loadtest.Expectation{Answer: a.Text, Share: float64(weight) / float64(w.Green+w.Blue)})
		case weight > 0:
			problems = append(problems, fmt.Sprintf("the default route sends %d%% to %s, but no answer is known for %s: "+
				"set --answer-%s or give %s a header route", weight, v, v, v, v))
		}
	}
	return want, problems
}
