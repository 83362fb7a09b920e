package loadtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Report is what the loadtest command prints: the tally, and the comparison when expectations
// were given. Build it with NewReport; render it with WriteText or WriteJSON.
type Report struct {
	// URL is the endpoint with any password shown as xxxxx (config.RedactedURL).
	URL         string         `json:"url"`
	Completed   int            `json:"completed"`
	Answered    int            `json:"answered"`
	Failed      int            `json:"failed"`
	Canceled    int            `json:"canceled"`
	Interrupted bool           `json:"interrupted"`
	Seconds     float64        `json:"elapsedSeconds"`
	Rate        float64        `json:"rate"`
	Answers     []AnswerShare  `json:"answers"`
	Errors      []ErrorShare   `json:"errors"`
	Latency     LatencySummary `json:"latency"`
	Expect      *Comparison    `json:"expect,omitempty"`
}

// AnswerShare is an answer's count and its share of the successful responses.
type AnswerShare struct {
	AnswerCount
	Share float64 `json:"share"`
}

// ErrorShare is an error kind's count and its share of all completed requests.
type ErrorShare struct {
	ErrorCount
	Share float64 `json:"share"`
}

// LatencySummary gives latency quantiles in milliseconds (within 1% of the exact order statistic).
type LatencySummary struct {
	P50  float64 `json:"p50Ms"`
	P90  float64 `json:"p90Ms"`
	P99  float64 `json:"p99Ms"`
	Min  float64 `json:"minMs"`
	Mean float64 `json:"meanMs"`
	Max  float64 `json:"maxMs"`
}

// NewReport summarises t for url (a password in it is redacted: the report is printed); cmp may be nil.
func NewReport(url string, t *Tally, cmp *Comparison) Report {
	r := Report{
		URL: config.RedactedURL(url), Completed: t.Completed(), Answered: t.Answered(), Failed: t.Failed(),
		Canceled: t.Canceled, Interrupted: t.Interrupted, Seconds: t.Elapsed.Seconds(), Rate: t.Rate(),
		Answers: []AnswerShare{}, Errors: []ErrorShare{}, Expect: cmp,
	}
	as, es := t.Sorted()
	for _, a := range as {
		r.Answers = append(r.Answers, AnswerShare{AnswerCount: a, Share: share(a.Count, r.Answered)})
	}
	for _, e := range es {
		r.Errors = append(r.Errors, ErrorShare{ErrorCount: e, Share: share(e.Count, r.Completed)})
	}
	h := &t.Latency
	r.Latency = LatencySummary{
		P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)),
		Min: ms(h.Min()), Mean: ms(h.Mean()), Max: ms(h.Max()),
	}
	return r
}

func share(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for a person at a terminal.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	if r.Interrupted {
		fmt.Fprintf(&b, "Interrupted: partial tally (%d requests in flight were abandoned).\n", r.Canceled)
	}
	fmt.Fprintf(&b, "Requests: %d in %.2fs (%.1f/s): %d answered, %d failed\n",
		r.Completed, r.Seconds, r.Rate, r.Answered, r.Failed)
	tw := tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0)
	if len(r.Answers) > 0 {
		fmt.Fprintln(tw, "Answer\tCount\tShare")
		for _, a := range r.Answers {
			fmt.Fprintf(tw, "%s\t%d\t%.1f%%\n", a.Raw, a.Count, 100*a.Share)
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintln(tw, "Error\tCount\tShare")
		for _, e := range r.Errors {
			fmt.Fprintf(tw, "%s\t%d\t%.1f%%\n", e.Label(), e.Count, 100*e.Share)
		}
	}
	_ = tw.Flush() // into a strings.Builder, which never fails
	l := r.Latency
	fmt.Fprintf(&b, "Latency: p50 %.2fms  p90 %.2fms  p99 %.2fms  (min %.2fms, mean %.2fms, max %.2fms)\n",
		l.P50, l.P90, l.P99, l.Min, l.Mean, l.Max)
	if r.Expect != nil {
		writeComparison(&b, *r.Expect)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeComparison explains each check and the verdict in plain sentences.
func writeComparison(b *strings.Builder, c Comparison) {
	fmt.Fprintf(b, "Expected shares (%g%% joint Wilson intervals, tolerance ±%.1f points, n=%d):\n",
		100*c.Confidence, 100*c.Tolerance, c.N)
	tw := tabwriter.NewWriter(b, 2, 8, 2, ' ', 0)
	for _, ch := range c.Checks {
		fmt.Fprintf(tw, "  %s\texpected %.1f%%\tobserved %.1f%% [%.1f, %.1f]\t%s\n", ch.Answer,
			100*ch.Expected, 100*ch.Observed, 100*ch.Interval.Low, 100*ch.Interval.High, describe(ch, c.Tolerance))
	}
	_ = tw.Flush() // into a strings.Builder, which never fails
	fmt.Fprintln(b, Summary(c))
}

// describe says how one check came out and by how much.
func describe(ch Check, tolerance float64) string {
	switch ch.Verdict {
	case Agree:
		return "agrees"
	case Disagree:
		return fmt.Sprintf("DISAGREES: off by %+.1f points (at least %.1f beyond the tolerance)",
			100*ch.Off(), 100*beyond(ch, tolerance))
	}
	return "undecided"
}

// beyond is how far the interval lies outside the tolerance band (0 when it overlaps).
func beyond(ch Check, tolerance float64) float64 {
	if ch.Interval.Low > ch.Expected+tolerance {
		return ch.Interval.Low - ch.Expected - tolerance
	}
	if ch.Interval.High < ch.Expected-tolerance {
		return ch.Expected - tolerance - ch.Interval.High
	}
	return 0
}

// Summary is the one-line verdict of c.
func Summary(c Comparison) string {
	switch c.Verdict {
	case Agree:
		return fmt.Sprintf("Verdict: the observed split agrees with the expected one (%d responses).", c.N)
	case Disagree:
		return fmt.Sprintf("Verdict: the observed split DISAGREES with the expected one (%d responses).", c.N)
	}
	return fmt.Sprintf("Verdict: too few responses to decide (%d); about %d are needed.", c.N, c.Needed)
}

// Failure is why the load test fails, one sentence, so `mlcanary loadtest` exits 1 after printing
// the tally: it was interrupted (the tally is partial), nothing was answered, or the answers
// disagree with --expect (naming the worst share) or are too few to decide. nil when it passes.
func (r Report) Failure() error {
	switch {
	case r.Interrupted:
		return errors.New("interrupted: the tally above is partial")
	case r.Answered == 0:
		return fmt.Errorf("none of the %d requests to %s was answered", r.Completed, r.URL)
	case r.Expect != nil && r.Expect.Verdict == Disagree:
		return fmt.Errorf("the observed split disagrees with --expect: %s", r.Expect.Worst().Describe())
	case r.Expect != nil && r.Expect.Verdict == Undecided:
		return fmt.Errorf("too few answers (%d) to check --expect; about %d are needed (-n)", r.Expect.N, r.Expect.Needed)
	}
	return nil
}
