package benchstage

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// load is the machine's load average (runnable and uninterruptible tasks, averaged over 1, 5 and
// 15 minutes, from /proc/loadavg; see proc(5)) and its CPU count, or why it could not be read
// (err; e.g. not Linux).
type load struct {
	one, five, fifteen float64
	cpus               int
	err                error
}

// readLoad reads /proc/loadavg now.
func readLoad() load {
	l := load{cpus: runtime.NumCPU()}
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		l.err = err
		return l
	}
	l.one, l.five, l.fifteen, l.err = parseLoadavg(string(b))
	return l
}

// parseLoadavg reads the three averages opening /proc/loadavg ("16.12 14.03 9.87 3/912 41230").
func parseLoadavg(s string) (one, five, fifteen float64, err error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return 0, 0, 0, fmt.Errorf("/proc/loadavg: %q: want three load averages", s)
	}
	var vs [3]float64
	for i := range vs {
		if vs[i], err = strconv.ParseFloat(f[i], 64); err != nil {
			return 0, 0, 0, fmt.Errorf("/proc/loadavg: %w", err)
		}
	}
	return vs[0], vs[1], vs[2], nil
}

// busy tells whether more tasks were runnable over the last minute than the machine has CPUs.
func (l load) busy() bool { return l.err == nil && l.one > float64(l.cpus) }

// String is "16.12 14.03 9.87 (1, 5, 15 min) on 2 CPUs".
func (l load) String() string {
	if l.err != nil {
		return fmt.Sprintf("unknown (%v)", l.err)
	}
	return fmt.Sprintf("%.2f %.2f %.2f (1, 5, 15 min) on %d CPUs", l.one, l.five, l.fifteen, l.cpus)
}
