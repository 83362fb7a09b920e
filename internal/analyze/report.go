package analyze

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// Report is the evidence of one analysis, as `-o json` prints it.
type Report struct {
	// Decision is agrees, degraded or undecided; Reason is one sentence saying why.
	Decision   analysis.Verdict `json:"decision"`
	Reason     string           `json:"reason"`
	Confidence float64          `json:"confidence"`
	Endpoint   string           `json:"endpoint"`
	Window     Window           `json:"window"`
	// GreenWindow is where green was judged when not in Window: the equally long window before the
	// change of a bake after full promotion (Blue_100), when green still served; absent otherwise.
	GreenWindow *Window `json:"greenWindow,omitempty"`
	Looks       int     `json:"looks"`
	// Needed is how many more requests would decide an undecided verdict (analysis.NeededAssumption);
	// -1 when none would or it is unknown.
	Needed     int64                    `json:"needed,omitempty"`
	Assumption string                   `json:"neededAssumption,omitempty"`
	Versions   map[string]VersionReport `json:"versions"`
	Shares     []analysis.ShareResult   `json:"shares"`
	BoundaryMs float64                  `json:"slowAboveMs"`
	Queries    []istioprom.Query        `json:"queries"`
	Warnings   []string                 `json:"warnings,omitempty"`
}

// Window is the data judged: from Start (the split's last change, or Window before the first look)
// to End (the last look), which was to go on at most until Deadline.
type Window struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Deadline time.Time `json:"deadline,omitzero"`
}

// VersionReport is one version's counts.
type VersionReport struct {
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	Unserved int64 `json:"unserved"`
	Timed    int64 `json:"timed"`
	Slow     int64 `json:"slow"`
}

// NewReport gathers an outcome's evidence.
func NewReport(o Outcome) Report {
	r := Report{Decision: o.Decision.Verdict, Confidence: o.Decision.Confidence, Endpoint: o.Measured.Endpoint,
		Window: Window{Start: o.Start, End: o.Measured.End, Deadline: o.Deadline}, GreenWindow: o.GreenWindow, Looks: o.Looks,
		Shares: o.Decision.Shares, BoundaryMs: o.Measured.BoundaryMs, Queries: o.Measured.Queries, Warnings: o.Measured.Warnings,
		Versions: map[string]VersionReport{}}
	for name, m := range map[string]istioprom.Measurement{"blue": o.Measured.Blue, "green": o.Measured.Green} {
		r.Versions[name] = VersionReport{Requests: m.Requests, Errors: m.Errors, Unserved: m.Unserved, Timed: m.Timed, Slow: m.Slow}
	}
	if err := o.Failure(); err != nil {
		r.Reason = err.Error()
	} else {
		r.Reason = "blue is not worse than green on any share"
	}
	if r.Decision == analysis.Undecided {
		r.Needed, r.Assumption = o.Decision.Needed, analysis.NeededAssumption
	}
	return r
}

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for a person: the decision and its reason, a table of the versions' shares with
// their intervals, the window, the endpoint and the queries to run again.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Analysis: blue against green: %s\n  %s\n", r.Decision, r.Reason)
	looks := "1 look"
	if r.Looks != 1 {
		looks = fmt.Sprintf("%d looks", r.Looks)
	}
	fmt.Fprintf(&b, "  window %s to %s (%s, at most until %s), %g%% confidence over all looks\n",
		stamp(r.Window.Start), stamp(r.Window.End), looks, stamp(r.Window.Deadline), 100*r.Confidence)
	if g := r.GreenWindow; g != nil {
		fmt.Fprintf(&b, "  %s\n", g.sentence())
	}
	if len(r.Shares) > 0 {
		fmt.Fprintf(&b, "\n  %-7s %9s  %-34s %s\n", "version", "requests", "errors", fmt.Sprintf("slow (over %gms)", r.BoundaryMs))
		for _, v := range []string{"green", "blue"} {
			row := make([]string, 0, len(r.Shares))
			for _, s := range r.Shares {
				c, iv := s.Green, s.GreenInterval
				if v == "blue" {
					c, iv = s.Blue, s.BlueInterval
				}
				row = append(row, share(c, iv))
			}
			fmt.Fprintf(&b, "  %-7s %9d  %-34s %s\n", v, r.Versions[v].Requests, row[0], row[len(row)-1])
		}
		b.WriteString("\n")
		for _, s := range r.Shares {
			fmt.Fprintf(&b, "  %s\n", s.Reason())
		}
	}
	if r.Decision == analysis.Undecided && r.Needed > 0 {
		fmt.Fprintf(&b, "  (requests needed: %s)\n", r.Assumption)
	}
	fmt.Fprintf(&b, "\nQueries to %s:\n", r.Endpoint)
	for _, q := range r.Queries {
		fmt.Fprintf(&b, "  # %s, at %s\n  %s\n", q.What, stamp(q.Time), q.PromQL)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "warning from the backend: %s\n", warn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// share is "4.76% [2.10, 9.30] of 1050" (the interval in percent).
func share(c analysis.Count, iv analysis.Interval) string {
	if c.Of == 0 {
		return "no requests"
	}
	return fmt.Sprintf("%.2f%% [%.2f, %.2f] of %d", 100*c.Share(), 100*iv.Low, 100*iv.High, c.Of)
}

// stamp is t in UTC, RFC 3339.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// sentence says where green was judged in a bake after full promotion.
func (g Window) sentence() string {
	return fmt.Sprintf("green judged on its own traffic in the equally long window before the change, %s to %s (after it green serves nothing)",
		stamp(g.Start), stamp(g.End))
}
