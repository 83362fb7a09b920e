package analyze

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/golden"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// TestVersionWithoutSeriesAtTheWindowsEnd: a version still without series when the window ends is a
// configuration fault (Run's error, one sentence naming the selector and the split) when the other
// served enough requests at a split that gives it a share to make "none reached it" impossible (30
// expected); otherwise it is too little traffic (undecided, with the no-series sentence). Blue's
// share counts Shadow_N's mirrored copies; an unknown split is taken as 1% to the missing version.
func TestVersionWithoutSeriesAtTheWindowsEnd(t *testing.T) {
	blue := istioprom.Version{Name: "blue", Workload: "model-blue"}
	green := istioprom.Version{Name: "green", Workload: "model-green"}
	for _, c := range []struct {
		name    string
		missing istioprom.Version
		other   int64
		split   Split
		fault   string // "" undecided
	}{
		{"Blue_50, green served 24000", blue, 24000, Split{Green: 50, Blue: 50, Known: true}, "at green 50%, blue 50%, about 24000 of which blue should have answered"},
		{"Blue_50, green served 29", blue, 29, Split{Green: 50, Blue: 50, Known: true}, ""},
		{"Blue_1, green served 2970", blue, 2970, Split{Green: 99, Blue: 1, Known: true}, "about 30 of which blue"},
		{"Blue_1, green served 2900", blue, 2900, Split{Green: 99, Blue: 1, Known: true}, ""},
		{"Shadow_10, green served 1000", blue, 1000, Split{Green: 100, Mirror: 10, Known: true}, "at green 100%, blue 0%, 10% mirrored to blue, about 100 of which"},
		{"Blue_99, blue served 10000", green, 10000, Split{Green: 1, Blue: 99, Known: true}, "about 101 of which green"},
		{"Blue_100, blue served 10000: green has no share", green, 10000, Split{Blue: 100, Known: true}, ""},
		{"unknown split, green served 3000", blue, 3000, Split{}, "at an unknown split (taken as 1% to blue)"},
		{"unknown split, green served 1000", blue, 1000, Split{}, ""},
	} {
		other := "green"
		if c.missing.Name == "green" {
			other = "blue"
		}
		noSeries := &istioprom.NoSeriesError{Version: c.missing, Namespace: "ns", Selector: `istio_requests_total{destination_workload="` + c.missing.Workload + `"}`,
			OtherHasSeries: true, Other: other, OtherRequests: c.other}
		clk := &clock{now: t0}
		s := settings(clk, t0)
		s.Split = c.split
		o, err := Run(context.Background(), (&script{looks: []look{{err: noSeries}}}).measure, s)
		switch {
		case c.fault != "" && (err == nil || !strings.Contains(err.Error(), c.fault) || !strings.Contains(err.Error(), "a configuration fault") ||
			!strings.Contains(err.Error(), noSeries.Selector)):
			t.Errorf("%s: %v, want the configuration fault %q", c.name, err, c.fault)
		case c.fault == "" && (err != nil || o.Problem != noSeries.Error()):
			t.Errorf("%s: %v, problem %q; want undecided with the no-series sentence", c.name, err, o.Problem)
		case o.Looks != 21:
			t.Errorf("%s: %d looks, want every look of the window (21): the fault is told only at its end", c.name, o.Looks)
		}
	}
}

// TestBakeReport: the evidence of a bake after full promotion (Settings.GreenBefore, Blue_100)
// states green's own window, the equally long one ending at the change, growing backwards with the
// looks (testdata/bake-report.*.golden).
func TestBakeReport(t *testing.T) {
	c := &clock{now: t0}
	s := &script{looks: []look{{blue: counts(2000, 120, 20), green: counts(1500, 15, 15)}, {blue: counts(6000, 360, 60), green: counts(4500, 45, 45)},
		{blue: counts(10000, 600, 100), green: counts(8000, 80, 80)}}}
	set := settings(c, t0)
	set.GreenBefore = t0
	o, err := Run(context.Background(), s.measure, set)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Window{Start: t0.Add(-60 * time.Second), End: t0}); o.GreenWindow == nil || *o.GreenWindow != want {
		t.Errorf("green's window %+v, want %+v", o.GreenWindow, want)
	}
	var text, js bytes.Buffer
	if err := WriteText(&text, NewReport(o)); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, NewReport(o)); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "bake-report.txt.golden", text.String())
	golden.Assert(t, "bake-report.json.golden", js.String())
	golden.Assert(t, "bake-report.md.golden", Markdown(NewReport(o)))
}

// TestSplitsNoTrafficCouldDecide: at a split that gives blue nothing, or green nothing without the
// change record that finds green's traffic before it, Prepare fails at once in one sentence naming
// the split, instead of a gate that would end "undecided: N more requests would decide it"; paired
// load (through the header routes) and a split that gives both a share, or a Blue_100 with its
// record, prepare.
func TestSplitsNoTrafficCouldDecide(t *testing.T) {
	cfg := config.Default()
	for _, c := range []struct {
		name      string
		split     Split
		changedAt time.Time
		source    string
		want      string // "" prepares
	}{
		{"Blue_0", Split{Green: 100, Known: true}, t0, SourcePrometheus, "the live split (green 100%, blue 0%) gives blue no traffic"},
		{"Blue_0, paired load", Split{Green: 100, Known: true}, t0, SourceLoadtest, ""},
		{"Blue_100 without a change record", Split{Blue: 100, Known: true}, time.Time{}, SourcePrometheus, "gives green no traffic and the VirtualService has no change record"},
		{"Blue_100", Split{Blue: 100, Known: true}, t0, SourcePrometheus, ""},
		{"Shadow_10", Split{Green: 100, Mirror: 10, Known: true}, t0, SourcePrometheus, ""},
		{"Blue_50", Split{Green: 50, Blue: 50, Known: true}, t0, SourcePrometheus, ""},
		{"unknown (--since)", Split{}, t0, SourcePrometheus, ""},
	} {
		in := NewInputs()
		in.PrometheusURL, in.Source, in.Gateway, in.Split = "http://prometheus:9090", c.source, "20.1.2.3", c.split
		_, s, err := Prepare(in, cfg, c.changedAt, Identity{})
		switch {
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.name == "Blue_100" && !s.GreenBefore.Equal(t0):
			t.Errorf("%s: green judged before %v, want the change at %v", c.name, s.GreenBefore, t0)
		}
	}
}
