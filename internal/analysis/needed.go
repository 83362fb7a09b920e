package analysis

import "math"

// NeededAssumption says what Needed assumes, for a summary to print next to the number.
const NeededAssumption = "assuming each version's share and the split of traffic between them stay as observed " +
	"(a version with no requests yet: the other's share, half of the traffic; neither: no bad requests)"

// maxNeeded bounds the search: a share still undecided after this many more requests is reported as
// never decided at its observed shares (the difference sits on the margin).
const maxNeeded = int64(1) << 40

// needed is the smallest number of further requests, both versions together, after which the share
// is decided, under NeededAssumption: the further requests split between the versions as the
// observed ones did, and each version's further bad requests are its observed share of them
// (rounded), each version's counts weighed by its dispersion as observed. It returns -1 when even maxNeeded more would not decide it. The intervals' width shrinks
// with the counts, so the search doubles until decided and then bisects; rounding can make the
// answer a few requests off, which is why summaries say "about".
func needed(s Share, bluePhi, greenPhi, alpha float64) int64 {
	blueShare, greenShare := s.Blue.Share(), s.Green.Share()
	switch {
	case s.Blue.Of <= 0 && s.Green.Of > 0:
		blueShare = greenShare
	case s.Green.Of <= 0 && s.Blue.Of > 0:
		greenShare = blueShare
	}
	blueSplit := 0.5
	if s.Blue.Of > 0 && s.Green.Of > 0 {
		blueSplit = float64(s.Blue.Of) / float64(s.Blue.Of+s.Green.Of)
	}
	decided := func(more int64) bool {
		toBlue := int64(math.Round(blueSplit * float64(more)))
		toGreen := more - toBlue
		blue := Count{Bad: s.Blue.Bad + int64(math.Round(blueShare*float64(toBlue))), Of: s.Blue.Of + toBlue}
		green := Count{Bad: s.Green.Bad + int64(math.Round(greenShare*float64(toGreen))), Of: s.Green.Of + toGreen}
		return classify(Difference(scaledSequence(blue, bluePhi, alpha), scaledSequence(green, greenPhi, alpha)), s.Margin) != Undecided
	}
	return Fewest(decided)
}

// Fewest is the smallest n ≥ 1 with decided(n), for a decided that stays true once true (more
// requests only narrow an interval), or -1 when even 2^40 is not decided: it doubles until
// decided, then bisects. It is how many more requests a decision needs, for every count that
// narrows with the requests (this package's shares, compare's agreement).
func Fewest(decided func(more int64) bool) int64 {
	hi := int64(1)
	for !decided(hi) {
		if hi >= maxNeeded {
			return -1
		}
		hi *= 2
	}
	lo := hi / 2 // undecided (or 0, the present, which is undecided)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if decided(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
