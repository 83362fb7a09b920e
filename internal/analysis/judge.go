// Package analysis judges blue against green from counts: for each share (errors out of requests,
// slow requests out of timed requests) it decides whether blue is not worse than green by more than
// a margin, is worse by more than it, or cannot tell yet. The decision is pure (no I/O): sources
// (Prometheus, later Azure Monitor and paired load) measure the counts, and the command prints the
// evidence. Its intervals are confidence sequences, valid however often the same growing window is
// measured again and whenever the looking stops (Sequence). Sequence assumes independent requests;
// real errors come in bursts, so when a share carries each version's per-look counts, each version's
// counts are divided by its estimated dispersion (Dispersion: the quasi-binomial Pearson φ, Williams
// 1982; the effective sample size of clustered binary data, Rao and Scott 1992) and no verdict is
// given before MinLooks looks: the guarantee is then approximate (an estimated φ), checked by seeded
// simulation of bursty errors (TestBurstyErrorsKeepThePromise).
package analysis

import (
	"fmt"
	"math"
	"strings"
)

// Verdict is the outcome of a comparison of blue with green.
type Verdict string

// The verdicts. Agrees: for every share, blue's share exceeds green's by less than the share's
// margin. Degraded: for at least one share it exceeds it by more than the margin. Undecided:
// neither is established yet (more requests would decide it).
const (
	Agrees    Verdict = "agrees"
	Degraded  Verdict = "degraded"
	Undecided Verdict = "undecided"
)

// Share is one proportion measured for both versions, and how much worse blue may be.
type Share struct {
	// Name says what is counted, e.g. "errors" or "slow".
	Name string
	// Blue and Green are each version's counts over the same window.
	Blue, Green Count
	// Margin is the largest increase of blue's share over green's that still counts as not worse, as
	// a fraction (0.01 is 1 percentage point): the non-inferiority margin.
	Margin float64
	// BlueLooks and GreenLooks are each version's counts look by look (each look's increment, summing
	// to Blue and Green; Looks makes them from cumulative counts). With them, each version's counts
	// are weighed by its Dispersion, and the share is undecided until it has MinLooks looks with
	// requests. A version without them (nil) has every request taken as an independent draw.
	BlueLooks, GreenLooks []Count
}

// ShareResult is the decision on one share, with its evidence.
type ShareResult struct {
	Name       string  `json:"name"`
	Blue       Count   `json:"blue"`
	Green      Count   `json:"green"`
	Margin     float64 `json:"margin"`
	Verdict    Verdict `json:"verdict"`
	BlueShare  float64 `json:"blueShare"`
	GreenShare float64 `json:"greenShare"`
	Difference float64 `json:"difference"`
	// BlueInterval and GreenInterval are each version's confidence sequence; DifferenceInterval is
	// the one for blue's share minus green's. All hold together at the decision's confidence.
	BlueInterval       Interval `json:"blueInterval"`
	GreenInterval      Interval `json:"greenInterval"`
	DifferenceInterval Interval `json:"differenceInterval"`
	// BlueDispersion and GreenDispersion are each version's Dispersion (1: independent requests; 0
	// when the share had no per-look counts), by which its counts were divided.
	BlueDispersion  float64 `json:"blueDispersion,omitempty"`
	GreenDispersion float64 `json:"greenDispersion,omitempty"`
	// FewLooks is set when the share is undecided only because a version has fewer than MinLooks
	// looks with requests, so how much its bad requests cluster cannot be estimated yet.
	FewLooks bool `json:"fewLooks,omitempty"`
	// Needed is how many more requests, both versions together, would decide an undecided share if
	// the observed shares and split stayed as they are (Needed's assumption); -1 when no number of
	// requests would (the observed difference sits exactly on the margin); 0 when decided.
	Needed int64 `json:"needed"`
}

// Decision is the verdict on all shares together.
type Decision struct {
	Verdict    Verdict       `json:"verdict"`
	Confidence float64       `json:"confidence"`
	Shares     []ShareResult `json:"shares"`
	// Needed is the largest Needed of the undecided shares (-1 if one of them can never be decided at
	// its observed shares); 0 when decided.
	Needed int64 `json:"needed"`
}

// Judge compares blue with green on each share at confidence (in (0, 1), e.g. 0.99).
//
// Per share, with d = blue's share − green's and D its interval: agrees when D.High < Margin,
// degraded when D.Low > Margin, undecided otherwise. The error probability 1−confidence is split
// evenly over the 2·len(shares) version intervals (Bonferroni), so with probability at least
// confidence every interval of every share covers its true value at every look at once: the chance
// that a decision is ever wrong — a blue within its margins called degraded, or one beyond them
// called agreeing — is at most 1−confidence, however many looks are taken before it is reached
// (exactly for independent requests; approximately for errors clustered in time, whose counts are
// weighed by their Dispersion when the share carries per-look counts).
// Overall: degraded if any share is, agrees if all shares agree, undecided otherwise.
func Judge(shares []Share, confidence float64) Decision {
	return judge(shares, confidence, true)
}

// judge is Judge, with the search for the requests still needed only when withNeeded (the
// simulations, which look thousands of times, skip it).
func judge(shares []Share, confidence float64, withNeeded bool) Decision {
	d := Decision{Verdict: Agrees, Confidence: confidence}
	alpha := armAlpha(confidence, len(shares))
	for _, s := range shares {
		r := judgeShare(s, alpha, withNeeded)
		switch r.Verdict {
		case Degraded:
			d.Verdict = Degraded
		case Undecided:
			if d.Verdict == Agrees {
				d.Verdict = Undecided
			}
			if d.Needed >= 0 && (r.Needed < 0 || r.Needed > d.Needed) {
				d.Needed = r.Needed
			}
		}
		d.Shares = append(d.Shares, r)
	}
	if d.Verdict != Undecided {
		d.Needed = 0
	}
	return d
}

// armAlpha is the error probability each version's interval of each of n shares gets.
func armAlpha(confidence float64, n int) float64 {
	return (1 - confidence) / float64(2*max(n, 1))
}

// judgeShare decides one share with per-version intervals at alpha each.
func judgeShare(s Share, alpha float64, withNeeded bool) ShareResult {
	r := ShareResult{Name: s.Name, Blue: s.Blue, Green: s.Green, Margin: s.Margin,
		BlueShare: s.Blue.Share(), GreenShare: s.Green.Share()}
	r.Difference = r.BlueShare - r.GreenShare
	bluePhi, greenPhi := 1.0, 1.0
	if s.BlueLooks != nil {
		bluePhi = Dispersion(s.BlueLooks)
		r.BlueDispersion = bluePhi
	}
	if s.GreenLooks != nil {
		greenPhi = Dispersion(s.GreenLooks)
		r.GreenDispersion = greenPhi
	}
	r.BlueInterval, r.GreenInterval = scaledSequence(s.Blue, bluePhi, alpha), scaledSequence(s.Green, greenPhi, alpha)
	r.DifferenceInterval = Difference(r.BlueInterval, r.GreenInterval)
	r.Verdict = classify(r.DifferenceInterval, s.Margin)
	if r.Verdict != Undecided && (fewLooks(s.BlueLooks) || fewLooks(s.GreenLooks)) {
		r.Verdict, r.FewLooks = Undecided, true
	}
	if r.Verdict == Undecided && withNeeded {
		r.Needed = needed(s, bluePhi, greenPhi, alpha)
	}
	return r
}

// fewLooks says a version's per-look counts are given but hold fewer than MinLooks looks with requests.
func fewLooks(looks []Count) bool { return looks != nil && withRequests(looks) < MinLooks }

// classify turns the difference's interval into a verdict against the margin.
func classify(diff Interval, margin float64) Verdict {
	switch {
	case diff.High < margin:
		return Agrees
	case diff.Low > margin:
		return Degraded
	}
	return Undecided
}

// Reason is one sentence saying what decided the share, or why it is not decided, e.g.
// `errors: blue 5.00% (50 of 1000), green 1.00% (10 of 1000): blue +4.00 points, interval +0.62 to
// +7.90, more than the allowed +1.00`. A version with no requests has no share to compare yet.
func (r ShareResult) Reason() string {
	var head string
	if r.Blue.Of <= 0 || r.Green.Of <= 0 {
		head = fmt.Sprintf("%s: blue %s, green %s: nothing to compare yet", r.Name, measured(r.Blue), measured(r.Green))
	} else {
		head = fmt.Sprintf("%s: blue %s, green %s: blue %s points, interval %s to %s%s, which", r.Name, measured(r.Blue),
			measured(r.Green), points(r.Difference), points(r.DifferenceInterval.Low), points(r.DifferenceInterval.High), r.clustered())
	}
	switch {
	case r.Verdict == Agrees:
		return head + " is within the allowed " + points(r.Margin)
	case r.Verdict == Degraded:
		return head + " is more than the allowed " + points(r.Margin)
	case r.FewLooks:
		return fmt.Sprintf("%s would decide it, but each version needs requests in at least %d looks to tell errors clustered in time from independent ones", head, MinLooks)
	case r.Needed < 0:
		return head + " contains the allowed " + points(r.Margin) + "; at these shares no number of requests decides it"
	case r.Blue.Of <= 0 || r.Green.Of <= 0:
		return fmt.Sprintf("%s; about %d more requests would decide it", head, r.Needed)
	}
	return fmt.Sprintf("%s contains the allowed %s; about %d more requests would decide it at these shares",
		head, points(r.Margin), r.Needed)
}

// clustered says which versions' bad requests came clustered in time (Dispersion above 1), e.g.
// " (blue's clustered in time: its counts weighed as 12.3 times fewer independent requests)", or "".
func (r ShareResult) clustered() string {
	var parts []string
	for _, v := range []struct {
		name string
		phi  float64
	}{{"blue", r.BlueDispersion}, {"green", r.GreenDispersion}} {
		if v.phi > 1 {
			parts = append(parts, fmt.Sprintf("%s's clustered in time: its counts weighed as %.1f times fewer independent requests", v.name, v.phi))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// measured is a version's count as "5.00% (50 of 1000)", or "no requests".
func measured(c Count) string {
	if c.Of <= 0 {
		return "no requests"
	}
	return fmt.Sprintf("%s (%d of %d)", percent(c.Share()), c.Bad, c.Of)
}

// percent formats a fraction as a percentage with two decimals.
func percent(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// points formats a fraction as signed percentage points with two decimals (never "-0.00").
func points(f float64) string {
	v := math.Round(10000*f) / 100
	if v == 0 {
		v = 0
	}
	return fmt.Sprintf("%+.2f", v)
}
