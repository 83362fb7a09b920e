package compare

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Markdown renders r for the terminal, the Azure DevOps summary tab and the GitHub step summary, in
// the style of verify.Markdown: a verdict heading and its reason, each version's answers and latency,
// the numeric fields' differences, the distribution shift and the most divergent requests. Answers
// come from the network, so they are escaped before they reach the Markdown.
func Markdown(r *Report) string {
	var b strings.Builder
	verdict := map[analysis.Verdict]string{analysis.Agrees: "✅ blue agrees with green", analysis.Degraded: "❌ blue's answers differ",
		analysis.Undecided: "❔ undecided"}[r.Verdict]
	fmt.Fprintf(&b, "### mlcanary compare: %s\n\nGateway `%s` · %d requests to each version · agreement %s [%s, %s] at %s confidence · allowed disagreement %s · numbers agree when |a−b| ≤ max(%g·max(|a|, |b|), %g)\n\n",
		verdict, summary.Code(r.Gateway), r.Requests, agreementDown(100*r.Agreed, r.Compared, 2)+"%", pct(r.AgreementInterval.Low), pct(r.AgreementInterval.High),
		pct(r.Confidence), pct(r.MaxDisagreement), r.Tolerance.Rel, r.Tolerance.Abs)
	if r.RoutesChecked {
		b.WriteString("Header routes to blue and green checked on the cluster before sending.\n\n")
	} else {
		b.WriteString("Header routes not checked (no cluster given).\n\n")
	}
	b.WriteString(summary.Escape(r.Reason) + ".\n")
	if r.Interrupted {
		b.WriteString("\n_Interrupted before every request was sent._\n")
	}
	b.WriteString("\n| version | valid answers | invalid answers | latency p50 | p90 | p99 | max |\n|---|---:|---|---:|---:|---:|---:|\n")
	for _, v := range []struct {
		name string
		r    VersionReport
	}{{"🟢 green", r.Green}, {"🔵 blue", r.Blue}} {
		l := v.r.Latency
		fmt.Fprintf(&b, "| %s | %d | %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms |\n", v.name, v.r.Valid, invalidCell(v.r.Invalid), l.P50, l.P90, l.P99, l.Max)
	}
	if len(r.Fields) > 0 {
		b.WriteString("\n| numeric field | pairs | mean abs difference | max difference | outside tolerance |\n|---|---:|---:|---:|---:|\n")
		for _, f := range r.Fields {
			fmt.Fprintf(&b, "| `%s` | %d | %.4g | %.4g | %d (%s) |\n", summary.Code(f.Path), f.N, f.MeanAbsDifference, f.MaxDifference, f.Outside, pct(f.OutsideShare))
		}
	}
	if s := r.Shift; s != nil {
		fmt.Fprintf(&b, "\n**Distribution shift** of `%s` (%s test, %d green and %d blue values): D = %.4f, p = %.3g%s\n",
			summary.Code(s.Field), s.Test, s.Green, s.Blue, s.D, s.P, shiftNote(s.P))
	}
	if r.ShiftMissing != "" {
		fmt.Fprintf(&b, "\n**Distribution shift**: %s\n", summary.Escape(r.ShiftMissing))
	}
	if len(r.Divergent) > 0 {
		b.WriteString("\n**Most divergent requests**\n\n| line | difference | green | blue |\n|---:|---|---|---|\n")
		for _, d := range r.Divergent {
			fmt.Fprintf(&b, "| %d | %s | `%s` | `%s` |\n", d.Line, summary.Escape(d.Difference), summary.Code(d.Green), summary.Code(d.Blue))
		}
	}
	return b.String()
}

// shiftNote reads the KS p-value for a person.
func shiftNote(p float64) string {
	if p < 0.01 {
		return ": the outputs' distribution shifted"
	}
	return ": no shift detected"
}

// invalidCell lists the invalid answers by kind, in InvalidKinds' order, or "0".
func invalidCell(m map[string]int) string {
	var parts []string
	kinds := append([]string(nil), InvalidKinds...)
	for k := range m {
		if !contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	sort.SliceStable(kinds[len(InvalidKinds):], func(i, j int) bool { return kinds[len(InvalidKinds)+i] < kinds[len(InvalidKinds)+j] })
	for _, k := range kinds {
		if n := m[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if parts == nil {
		return "0"
	}
	return strings.Join(parts, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
