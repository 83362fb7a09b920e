package analyze

import (
	"context"
	"errors"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
)

// history is each share's cumulative counts per version, one per look (or per interval the first
// look filled in), from which the judge takes each look's increment to estimate how much each
// version's bad requests cluster in time (analysis.Dispersion).
type history struct {
	blue, green [][]analysis.Count // per share, per look
}

// add records a measurement's shares and returns them with their per-look counts attached.
func (h *history) add(shares []analysis.Share) []analysis.Share {
	if len(h.blue) != len(shares) {
		h.blue, h.green = make([][]analysis.Count, len(shares)), make([][]analysis.Count, len(shares))
	}
	out := make([]analysis.Share, len(shares))
	for i, s := range shares {
		h.blue[i] = append(h.blue[i], s.Blue)
		h.green[i] = append(h.green[i], s.Green)
		s.BlueLooks, s.GreenLooks = analysis.Looks(h.blue[i]), analysis.Looks(h.green[i])
		out[i] = s
	}
	return out
}

// fillIn measures the past of a first look that covers at least two intervals (a split that
// changed minutes before, or before the whole window), so the first look already has per-part counts
// to estimate dispersion from: the span is cut into at most fillParts equal parts, each at least one
// Interval long, and the cumulative counts are measured at each part's end before end (one more
// measurement per part, once: a metrics backend answers for past times, and Azure Monitor limits
// queries, so not one per interval). Paired load, whose first look starts its window, never gets
// here. A part that cannot be measured is left out (the looks to come fill the history instead); one
// measured as stale still has its counts.
func (h *history) fillIn(ctx context.Context, measure Measurer, s Settings, start, end time.Time) {
	span := end.Sub(start)
	if s.Interval <= 0 || span < 2*s.Interval {
		return
	}
	parts := min(int(span/s.Interval), fillParts)
	for i := 1; i < parts; i++ {
		res, err := measure(ctx, start, start.Add(span*time.Duration(i)/time.Duration(parts)))
		var stale *istioprom.StaleError
		if err != nil && !errors.As(err, &stale) { // a stale part still has its counts
			continue
		}
		h.add(shares(res, s))
	}
}

// fillParts is how many parts fillIn cuts a first look's past into at most.
const fillParts = 10

// shares is a measurement's shares at s's margins.
func shares(res istioprom.Result, s Settings) []analysis.Share {
	return res.Shares(s.MaxErrorIncrease, s.MaxSlowIncrease)
}
