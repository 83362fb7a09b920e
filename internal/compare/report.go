package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/loadtest"
)

// Report is what compare found, as `-o json` prints it.
type Report struct {
	// Gateway is where the requests went (no credentials: the address is checked for none).
	Gateway string `json:"gateway"`
	// Requests is the lines sent to both versions; Compared those green answered validly, the ones
	// blue is judged on; Agreed those blue answered validly and alike.
	Requests int `json:"requests"`
	Compared int `json:"compared"`
	Agreed   int `json:"agreed"`
	// BothValid counts the compared requests blue answered validly too, Identical those of them blue
	// answered byte for byte like green; RoutesChecked says the live header routes were checked to
	// reach each version (Options.RoutesKnown).
	BothValid     int  `json:"bothValid"`
	Identical     int  `json:"identical"`
	RoutesChecked bool `json:"routesChecked"`
	// Agreement is Agreed/Compared and AgreementInterval its Wilson score interval at Confidence;
	// Disagreement is 1 − Agreement. All are fractions (0 to 1); with nothing compared, Agreement is 0
	// and the interval 0 to 1.
	Agreement         float64           `json:"agreement"`
	AgreementInterval loadtest.Interval `json:"agreementInterval"`
	Disagreement      float64           `json:"disagreement"`
	// MaxDisagreement and Confidence are what the decision was asked; Tolerance is the numbers'.
	MaxDisagreement float64   `json:"maxDisagreement"`
	Confidence      float64   `json:"confidence"`
	Tolerance       Tolerance `json:"tolerance"`
	// Verdict is agrees, degraded or undecided; Reason says why in one sentence.
	Verdict analysis.Verdict `json:"verdict"`
	Reason  string           `json:"reason"`
	// Needed is about how many more compared requests would decide an undecided comparison if the
	// disagreement stayed as observed (-1: none would, it sits on the maximum; 0: decided, or interrupted, whose
	// partial tally more requests would not complete).
	Needed int64 `json:"needed"`
	// Green and Blue are each version's answers.
	Green VersionReport `json:"green"`
	Blue  VersionReport `json:"blue"`
	// Fields are the numeric fields' differences; Shift the distribution shift of one of them (nil
	// without numbers).
	Fields []FieldReport `json:"fields"`
	Shift  *ShiftReport  `json:"shift,omitempty"`
	// ShiftMissing says why the --shift-field asked for has no shift: no compared pair of answers had
	// a number there ("" when it has one, or when none was asked for and no answer had a number).
	ShiftMissing string `json:"shiftMissing,omitempty"`
	// Divergent are the most divergent requests, most divergent first.
	Divergent []Divergent `json:"divergent"`
	// Seconds is the wall time; Rate the lines compared per second (each one request per version).
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"rate"`
	// Interrupted is true when the run was stopped (Ctrl-C) before every line was sent.
	Interrupted bool `json:"interrupted"`
}

// VersionReport is one version's answers.
type VersionReport struct {
	Valid int `json:"valid"`
	// Invalid counts the invalid answers by kind (InvalidKinds), only the kinds seen.
	Invalid map[string]int `json:"invalid"`
	// MissingFields counts, per --field as given, the answers that lack it (only the fields missed).
	MissingFields map[string]int `json:"missingFields,omitempty"`
	// Latency is over the requests that got an HTTP answer, in milliseconds.
	Latency Latency `json:"latencyMs"`
}

// Latency summarises a latency histogram in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// FieldReport is one numeric field's differences over the requests both answered validly.
type FieldReport struct {
	Path string `json:"path"`
	N    int    `json:"n"`
	// MeanAbsDifference and MaxDifference are of |green − blue|, exact for integers (as the verdict);
	// one beyond float64's range is 1.7976931348623157e308. OutsideShare is Outside/N.
	MeanAbsDifference float64 `json:"meanAbsDifference"`
	MaxDifference     float64 `json:"maxDifference"`
	Outside           int     `json:"outsideTolerance"`
	OutsideShare      float64 `json:"outsideShare"`
}

// ShiftReport is the distribution shift of one numeric output: a two-sample Kolmogorov–Smirnov test
// of green's values against blue's (KS).
type ShiftReport struct {
	Field string `json:"field"`
	Test  string `json:"test"`
	KS
}

// newReport turns a finished tally into the report and its decision.
func newReport(t *Tally, o Options, elapsed time.Duration, interrupted bool) *Report {
	r := &Report{Gateway: o.Gateway, Requests: t.Requests, Compared: t.Compared, Agreed: t.Agreed, BothValid: t.BothValid, Identical: t.Identical, RoutesChecked: o.RoutesKnown,
		MaxDisagreement: o.MaxDisagreement, Confidence: o.Confidence, Tolerance: o.Tolerance,
		Green: versionReport(&t.Versions[0]), Blue: versionReport(&t.Versions[1]),
		Divergent: t.top.sorted(), Seconds: elapsed.Seconds(), Interrupted: interrupted}
	if elapsed > 0 {
		r.Rate = float64(t.Requests) / elapsed.Seconds()
	}
	r.decide()
	for _, f := range t.Fields {
		fr := FieldReport{Path: f.Path, N: f.N, MeanAbsDifference: finite(f.MeanAbs()), MaxDifference: finite(f.Max), Outside: f.Outside}
		if f.N > 0 {
			fr.OutsideShare = float64(f.Outside) / float64(f.N)
		}
		r.Fields = append(r.Fields, fr)
	}
	switch {
	case t.shiftPath != "" && t.shift[0].Count() > 0:
		r.Shift = &ShiftReport{Field: t.shiftPath, Test: "two-sample Kolmogorov–Smirnov", KS: KolmogorovSmirnov(&t.shift[0], &t.shift[1])}
	case o.ShiftField != "":
		r.ShiftMissing = fmt.Sprintf("no shift of %s was computed: no pair of compared answers has a number there "+
			"(check --shift-field against an answer)", o.ShiftField)
	}
	return r
}

// finite is x with a difference beyond float64's range (+Inf: numbers of 10^400) shown as the largest
// float64, 1.7976931348623157e308, since JSON has no infinity and the report must always encode.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return math.Copysign(math.MaxFloat64, x)
	}
	return x
}

func versionReport(v *VersionTally) VersionReport {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	h := &v.Latency
	inv := map[string]int{}
	for k, n := range v.Invalid {
		inv[k] = n
	}
	var missing map[string]int
	for k, n := range v.Missing {
		if missing == nil {
			missing = map[string]int{}
		}
		missing[k] = n
	}
	return VersionReport{Valid: v.Valid, Invalid: inv, MissingFields: missing, Latency: Latency{Count: h.Count(), Mean: ms(h.Mean()),
		P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}}
}

// decide judges the disagreement against MaxDisagreement: with D the Wilson score interval of the
// share of compared requests that disagree (two-sided, at Confidence; loadtest.Wilson), the
// comparison agrees when D.High < MaxDisagreement, is degraded when D.Low > MaxDisagreement, and is
// undecided otherwise (too few requests to tell, or none compared). An agreement is undecided too
// when the requests green answered invalidly (not compared) are a larger share of those sent than
// MaxDisagreement: a class of answers green cannot give (compressed, too large, timing out) would
// otherwise drop out of the verdict unseen. An agreement whose pairs of valid
// answers are all byte for byte identical is undecided when the routes were not checked: green
// answering both copies (no header route to blue) looks the same, and compare never agrees on pairs
// it cannot tell apart. Only pairs both versions answered validly are judged, so a transient error
// on one copy (green answering twice the traffic) does not disarm the rule. An
// interrupted run (Interrupted) is undecided whatever its counts, as loadtest's partial tally: the
// interval is for a number of requests fixed in advance, and a stop chosen while the numbers were
// being watched (optional stopping) would make an agreement likelier than its confidence says.
func (r *Report) decide() {
	bad := r.Compared - r.Agreed
	z := loadtest.Z(r.Confidence, 1)
	d := loadtest.Wilson(bad, r.Compared, z)
	r.AgreementInterval = loadtest.Interval{Low: 1 - d.High, High: 1 - d.Low}
	if r.Compared > 0 {
		r.Disagreement = float64(bad) / float64(r.Compared)
		r.Agreement = 1 - r.Disagreement
	}
	head := fmt.Sprintf("%d of %d compared requests disagree (%s, interval %s to %s at %s confidence)", bad, r.Compared,
		pct(r.Disagreement), pct(d.Low), pct(d.High), pct(r.Confidence))
	switch {
	case r.Interrupted:
		r.Verdict = analysis.Undecided
		r.Reason = "interrupted before every request was sent, so the partial comparison decides nothing: " + head
	case r.Compared > 0 && d.High < r.MaxDisagreement && !r.RoutesChecked && r.BothValid > 0 && r.Identical == r.BothValid:
		r.Verdict, r.Reason = analysis.Undecided, fmt.Sprintf("blue answered all %d requests both versions answered validly byte for byte like green, "+
			"which is also what green answering both copies looks like (no header route to blue); the routes were not "+
			"checked, so compare cannot tell that blue answered: give --namespace to check the live header routes", r.BothValid)
	case r.Compared > 0 && d.High < r.MaxDisagreement && float64(r.Requests-r.Compared) > r.MaxDisagreement*float64(r.Requests):
		r.Verdict, r.Reason = analysis.Undecided, fmt.Sprintf("blue agrees on the %d compared requests, but %d of %d (%s) were not "+
			"compared because green answered them invalidly (%s), more than the allowed %s, so the verdict cannot rest on the rest",
			r.Compared, r.Requests-r.Compared, r.Requests, pct(float64(r.Requests-r.Compared)/float64(r.Requests)), r.Green.invalidKinds(), pct(r.MaxDisagreement))
	case r.Compared > 0 && d.High < r.MaxDisagreement:
		r.Verdict, r.Reason = analysis.Agrees, head+", below the allowed "+pct(r.MaxDisagreement)
	case r.Compared > 0 && d.Low > r.MaxDisagreement:
		r.Verdict, r.Reason = analysis.Degraded, head+", more than the allowed "+pct(r.MaxDisagreement)
	default:
		r.Verdict = analysis.Undecided
		r.Needed = needed(bad, r.Compared, r.MaxDisagreement, z)
		switch {
		case r.Compared == 0:
			r.Reason = "no request was compared: " + r.Green.noneValid()
		case r.Needed < 0:
			r.Reason = head + ", which contains the allowed " + pct(r.MaxDisagreement) + "; at this share no number of requests decides it"
		default:
			r.Reason = fmt.Sprintf("%s, which contains the allowed %s; about %d more requests would decide it at this share",
				head, pct(r.MaxDisagreement), r.Needed)
		}
	}
}

// noneValid says, of green's answers (v), why none could be compared: when some are JSON that
// lacks a --field, that field by name (a typo in the flag is likelier than a sick model), else the
// kinds of invalid answers seen.
func (v VersionReport) noneValid() string {
	fields := make([]string, 0, len(v.MissingFields))
	for f := range v.MissingFields {
		fields = append(fields, strconv.Quote(f))
	}
	sort.Strings(fields)
	if len(fields) > 0 {
		return fmt.Sprintf("%d of green's answers lack the --field %s (check the path against an answer); "+
			"green answered none of them validly", v.Invalid[InvalidMissing], strings.Join(fields, ", "))
	}
	if kinds := v.invalidKinds(); kinds != "" {
		return "green answered none of them validly (" + kinds + ")"
	}
	return "green answered none of them validly"
}

// invalidKinds lists v's invalid answers by kind, e.g. "200 non-JSON, 3 timeout"; "" for none.
func (v VersionReport) invalidKinds() string {
	var kinds []string
	for _, k := range InvalidKinds {
		if n := v.Invalid[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(kinds, ", ")
}

// needed is the fewest further compared requests after which the decision is made, if they
// disagree at the observed share (rounded): analysis.Fewest on the Wilson interval; -1 when even
// 2^40 more would not decide it.
func needed(bad, n int, limit, z float64) int64 {
	share := 0.0
	if n > 0 {
		share = float64(bad) / float64(n)
	}
	decided := func(more int64) bool {
		total := int64(n) + more
		d := loadtest.Wilson(int(math.Round(share*float64(total))), int(total), z)
		return d.High < limit || d.Low > limit
	}
	return analysis.Fewest(decided)
}

// pct formats a fraction as a percentage with two decimals, three below 0.1%, and as many more as
// a smaller share needs to show its first significant digit (0.000012 is "0.0012%", never "0.000%"):
// a share that is not 0 never reads as 0.
func pct(f float64) string {
	a, decimals := math.Abs(100*f), 2
	if a != 0 && a < 0.1 {
		decimals = 3
	}
	for a != 0 && decimals < 20 && a*math.Pow(10, float64(decimals)) < 1 {
		decimals++
	}
	return fmt.Sprintf("%.*f%%", decimals, 100*f)
}

// agreementDown is agreed/compared as a fraction with decimals places, rounded down, so that a single
// disagreement never reads as full agreement (19999 of 20000 is 0.9999 with four decimals, not 1.0000);
// "0" with nothing compared. It is computed on the counts, without a float's rounding.
func agreementDown(agreed, compared, decimals int) string {
	if compared <= 0 {
		return strconv.FormatFloat(0, 'f', decimals, 64)
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	q := new(big.Int).Quo(new(big.Int).Mul(big.NewInt(int64(agreed)), scale), big.NewInt(int64(compared)))
	digits := fmt.Sprintf("%0*s", decimals+1, q.String())
	if decimals == 0 {
		return digits
	}
	return digits[:len(digits)-decimals] + "." + digits[len(digits)-decimals:]
}

// Failure is the report's error for the exit code: nil when blue agrees with green, else one
// sentence (exit 1).
func (r *Report) Failure() error {
	switch r.Verdict {
	case analysis.Agrees:
		return nil
	case analysis.Degraded:
		return fmt.Errorf("blue's answers differ from green's: %s", r.Reason)
	}
	return fmt.Errorf("the comparison is undecided: %s", r.Reason)
}

// WriteJSON writes r as indented JSON. Infinite divergences are not part of it (Divergent hides them).
func WriteJSON(w io.Writer, r *Report) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}
