package benchstage

import (
	"fmt"
	"net/http"
	"strings"
)

// The request targets of issue #12 for mlcanary's stage, all requests counted (the lock's too).
const (
	goalShiftRequests = 6 // a Blue_50 that writes: at most 6 requests
	goalHoldRequests  = 4 // a re-run that holds: at most 4 requests…
	goalHoldWrites    = 0 // …and no write
)

// purposes is a run's requests by what they are for: the lock's (its Lease: peek = the reads of
// it, take = the first write, release = the last write when there are two or more, renew = the
// writes between) and the stage's own reads and writes.
type purposes struct {
	peek, take, renew, release int
	reads, writes              int
}

// leasePath marks a request to a coordination.k8s.io Lease (mlcanary's lock; a stage reads and
// writes no other Lease).
const leasePath = "/apis/coordination.k8s.io/"

// purposesOf sorts reqs (in the order sent) by purpose.
func purposesOf(reqs []request) purposes {
	var p purposes
	var leaseWrites int
	for _, r := range reqs {
		lease := strings.HasPrefix(r.path, leasePath) && strings.Contains(r.path, "/leases")
		read := r.method == http.MethodGet
		switch {
		case lease && read:
			p.peek++
		case lease:
			leaseWrites++
		case read:
			p.reads++
		default:
			p.writes++
		}
	}
	if leaseWrites > 0 {
		p.take = 1
	}
	if leaseWrites > 1 {
		p.release = 1
		p.renew = leaseWrites - 2
	}
	return p
}

func (p purposes) lock() int { return p.peek + p.take + p.renew + p.release }

// String is "lock 3 (peek 1, take 1, release 1) + stage reads 6 + stage writes 1".
func (p purposes) String() string {
	parts := []string{fmt.Sprintf("peek %d", p.peek)}
	if p.take > 0 {
		parts = append(parts, fmt.Sprintf("take %d", p.take))
	}
	if p.renew > 0 {
		parts = append(parts, fmt.Sprintf("renew %d", p.renew))
	}
	if p.release > 0 {
		parts = append(parts, fmt.Sprintf("release %d", p.release))
	}
	return fmt.Sprintf("lock %d (%s) + stage reads %d + stage writes %d", p.lock(), strings.Join(parts, ", "), p.reads, p.writes)
}

// requestVerdicts are the lines judging mlcanary's counted runs against #12's targets: the
// writing shift (Blue_40 after Blue_50: the same weight-only route write as Blue_50) at most 6
// requests, the re-run that holds at most 4 and no write. A count is exact, so the verdict is met
// or NOT met, never undecided. A run not counted (absent from counts) is said so.
func requestVerdicts(counts map[string]requestCount) []string {
	verdict := func(ok bool) string {
		if ok {
			return verdictMet
		}
		return verdictNotMet
	}
	var lines []string
	if c, ok := counts[runStage]; ok {
		p, n := purposesOf(c.requests), c.reads+c.writes
		lines = append(lines, fmt.Sprintf("  a shift that writes (Blue_50 <-> Blue_40)  %2d requests  (goal ≤ %d: %s) = %s",
			n, goalShiftRequests, verdict(n <= goalShiftRequests), p))
	} else {
		lines = append(lines, "  a shift that writes: not counted")
	}
	if c, ok := counts[stageRerun]; ok {
		p, n := purposesOf(c.requests), c.reads+c.writes
		lines = append(lines, fmt.Sprintf("  a re-run that holds                        %2d requests, %d writes  (goal ≤ %d and %d writes: %s) = %s",
			n, c.writes, goalHoldRequests, goalHoldWrites, verdict(n <= goalHoldRequests && c.writes <= goalHoldWrites), p))
	} else {
		lines = append(lines, "  a re-run that holds: not counted")
	}
	return lines
}
