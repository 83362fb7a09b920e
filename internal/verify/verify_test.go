package verify

import (
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/gatewaysim"
	"github.com/mlcanary/mlcanary/internal/scoringmock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

var documentedRoutes = []summary.HeaderRoute{
	{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
	{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"},
}

// world is a gateway simulator on loopback in front of two scoring mockups.
type world struct {
	// actual is what the simulated gateway really does.
	actual summary.Weights
	routes []summary.HeaderRoute
	// blueAnswer overrides blue's answer; blueFailRate makes blue fail.
	blueAnswer   string
	blueFailRate float64
}

func (w world) start(t *testing.T) string {
	t.Helper()
	blueAnswer := w.blueAnswer
	if blueAnswer == "" {
		blueAnswer = "New Model B"
	}
	green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model A"}))
	blue := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: blueAnswer, FailRate: w.blueFailRate}))
	gw := httptest.NewServer(gatewaysim.New(gatewaysim.Config{
		Backends: map[string]string{"green": green.URL, "blue": blue.URL},
		Weights:  w.actual, Routes: w.routes, Seed: 42,
	}))
	t.Cleanup(func() { gw.Close(); green.Close(); blue.Close() })
	return gw.URL
}

func defaults(gateway string) Options {
	return Options{Gateway: gateway, Concurrency: 8, Timeout: 5 * time.Second,
		Confidence: 0.99, Tolerance: 0.05, MaxErrorShare: 0.01}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		world    world
		target   Target // Path defaults to /score
		opts     func(*Options)
		passed   bool
		answers  map[string]Answer
		problems []string // substrings, one per problem, in order
	}{
		{
			name:    "50/50 as configured",
			world:   world{actual: summary.Weights{Green: 50, Blue: 50}, routes: documentedRoutes},
			target:  Target{Weights: summary.Weights{Green: 50, Blue: 50}, Routes: documentedRoutes},
			passed:  true,
			answers: map[string]Answer{"green": {"New Model A", true}, "blue": {"New Model B", true}},
		},
		{
			name:    "configured 50/50 but the gateway sends 90/10",
			world:   world{actual: summary.Weights{Green: 90, Blue: 10}, routes: documentedRoutes},
			target:  Target{Weights: summary.Weights{Green: 50, Blue: 50}, Routes: documentedRoutes},
			answers: map[string]Answer{"green": {"New Model A", true}, "blue": {"New Model B", true}},
			problems: []string{
				`default route: "New Model A" is 9`, // about 90%: the seed fixes it, the statistics must not
				`default route: "New Model B" is 1`,
			},
		},
		{
			name:    "answers given, no header routes, 100/0",
			world:   world{actual: summary.Weights{Green: 100}},
			target:  Target{Weights: summary.Weights{Green: 100}},
			opts:    func(o *Options) { o.Answers = map[config.Version]string{"green": "New Model A", "blue": "New Model B"} },
			passed:  true,
			answers: map[string]Answer{"green": {"New Model A", false}, "blue": {"New Model B", false}},
		},
		{
			name:    "blue's header route reaches green",
			world:   world{actual: summary.Weights{Green: 100}, routes: []summary.HeaderRoute{{Version: "green", Header: "x-api-version", Value: "blue", Path: "/score"}}},
			target:  Target{Weights: summary.Weights{Green: 100}, Routes: documentedRoutes[:1]},
			opts:    func(o *Options) { o.Answers = map[config.Version]string{"green": "New Model A"} },
			answers: map[string]Answer{"green": {"New Model A", false}, "blue": {"New Model A", true}},
			problems: []string{
				`green and blue both answer "New Model A"`,
			},
		},
		{
			name:    "configured blue answer is wrong",
			world:   world{actual: summary.Weights{Blue: 100}, routes: documentedRoutes},
			target:  Target{Weights: summary.Weights{Blue: 100}, Routes: documentedRoutes},
			opts:    func(o *Options) { o.Answers = map[config.Version]string{"blue": "New Model C"} },
			answers: map[string]Answer{"green": {"New Model A", true}, "blue": {"New Model C", false}},
			problems: []string{
				`header route blue (x-api-version: blue on /score): "New Model C" is 0.0% of answers, expected 100.0%`,
				`header route blue (x-api-version: blue on /score): "New Model B" is 100.0% of answers, expected 0.0%`,
				`default route: "New Model C" is 0.0% of answers, expected 100.0%`,
				`default route: "New Model B" is 100.0% of answers, expected 0.0%`,
			},
		},
		{
			name:     "blue has weight but no known answer",
			world:    world{actual: summary.Weights{Green: 80, Blue: 20}},
			target:   Target{Weights: summary.Weights{Green: 80, Blue: 20}},
			opts:     func(o *Options) { o.Answers = map[config.Version]string{"green": "New Model A"} },
			answers:  map[string]Answer{"green": {"New Model A", false}},
			problems: []string{"the default route sends 20% to blue, but no answer is known for blue"},
		},
		{
			name:    "too few requests to decide",
			world:   world{actual: summary.Weights{Green: 50, Blue: 50}, routes: documentedRoutes},
			target:  Target{Weights: summary.Weights{Green: 50, Blue: 50}, Routes: documentedRoutes},
			opts:    func(o *Options) { o.Requests = 40 },
			answers: map[string]Answer{"green": {"New Model A", true}, "blue": {"New Model B", true}},
			problems: []string{
				"default route: too few answers to decide (40); about",
			},
		},
		{
			name:    "blue fails a fifth of its requests",
			world:   world{actual: summary.Weights{Green: 50, Blue: 50}, routes: documentedRoutes, blueFailRate: 0.2},
			target:  Target{Weights: summary.Weights{Green: 50, Blue: 50}, Routes: documentedRoutes},
			answers: map[string]Answer{"green": {"New Model A", true}, "blue": {"New Model B", true}},
			problems: []string{
				"header route blue (x-api-version: blue on /score): 53 of 266 requests failed (status 500 ×53)",
				"default route: 308 of 3152 requests failed (status 500 ×308), more than the 1.0% allowed",
				"default route: too few answers to decide",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := defaults(tc.world.start(t))
			if tc.opts != nil {
				tc.opts(&o)
			}
			tc.target.Path = "/score"
			r, err := Verify(t.Context(), tc.target, o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Passed != tc.passed {
				t.Errorf("Passed = %v, want %v; problems: %q", r.Passed, tc.passed, r.Problems)
			}
			if diff := cmp.Diff(tc.answers, r.Answers); diff != "" {
				t.Errorf("answers (-want +got)\n%s", diff)
			}
			if len(r.Problems) != len(tc.problems) {
				t.Fatalf("problems %q, want %d like %q", r.Problems, len(tc.problems), tc.problems)
			}
			for i, p := range tc.problems {
				if !strings.Contains(r.Problems[i], p) {
					t.Errorf("problem %d = %q, want it to contain %q", i, r.Problems[i], p)
				}
			}
		})
	}
}

// TestVerifyAfterShadow, end to end through the simulated gateway: after Shadow_10 the gateway
// mirrors 10% of the default route's requests to blue, fire and forget. Verify passes — every
// client gets green's answer on the default route, each header route its own version — while blue
// receives about 10% of the default route's requests as copies (binomial bounds, 4 standard
// deviations). A gateway that splits 90/10 instead of mirroring is caught: clients then get
// blue's answers.
func TestVerifyAfterShadow(t *testing.T) {
	t.Parallel()
	const requests, share = 2000, 10
	for _, tc := range []struct {
		name    string
		weights summary.Weights
		mirror  int
		passed  bool
	}{
		{"mirrored as configured", summary.Weights{Green: 100}, share, true},
		{"split 90/10 instead of mirrored", summary.Weights{Green: 90, Blue: 10}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			green := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model A"}))
			blue := httptest.NewServer(scoringmock.Handler(scoringmock.Options{Answer: "New Model B"}))
			p := gatewaysim.New(gatewaysim.Config{Backends: map[string]string{"green": green.URL, "blue": blue.URL},
				Weights: tc.weights, Routes: documentedRoutes, Seed: 11, Mirror: tc.mirror})
			gw := httptest.NewServer(p)
			t.Cleanup(func() { gw.Close(); green.Close(); blue.Close() })
			o := defaults(gw.URL)
			o.Requests = requests
			// What Shadow_10 leaves (its Result): green 100%, both header routes.
			r, err := Verify(t.Context(), Target{Weights: summary.Weights{Green: 100}, Routes: documentedRoutes, Path: "/score", Mirror: share}, o)
			if err != nil {
				t.Fatal(err)
			}
			if md := Markdown(r); r.Mirror != share || !strings.Contains(md, "Blue also gets a copy of 10% of the default route's requests") {
				t.Errorf("the report does not say blue gets copies (mirror %d):\n%s", r.Mirror, md)
			}
			if r.Passed != tc.passed {
				t.Fatalf("Passed = %v, want %v; problems %q", r.Passed, tc.passed, r.Problems)
			}
			sent, answered := p.Mirrored()
			if tc.mirror == 0 {
				if sent != 0 {
					t.Errorf("%d copies without a mirror", sent)
				}
				return
			}
			want := float64(requests*share) / 100
			sd := math.Sqrt(float64(requests) * share / 100 * (1 - float64(share)/100))
			if math.Abs(float64(sent)-want) > 4*sd || answered != sent {
				t.Errorf("blue got %d copies (%d answered) of %d default-route requests, want about %.0f ± %.0f", sent, answered, requests, want, 4*sd)
			}
			t.Logf("blue received %d copies of %d default-route requests (%.1f%%); clients got only green's answer", sent, requests, 100*float64(sent)/requests)
		})
	}
}
