package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// timedLog records a stage's progress lines with the time each was logged.
type timedLog struct {
	mu    sync.Mutex
	lines []string
	at    []time.Time
}

func (l *timedLog) log(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines, l.at = append(l.lines, fmt.Sprintf(format, args...)), append(l.at, time.Now())
}

// first returns when the first line containing s was logged (zero when none was).
func (l *timedLog) first(s string) (string, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, line := range l.lines {
		if strings.Contains(line, s) {
			return line, l.at[i]
		}
	}
	return "", time.Time{}
}

// TestProgressSaysTheModelIsLoadingWhenTheWaitStarts (issue #9, "shows the readiness wait"): while
// blue's pods run but fail the readiness probe (its model loading), the stage's progress says so —
// the pod, its container and the probe that is not passing — within about a second of the pods
// being there, not after the 10 s progress interval (it used to name the pods only from 10 s on,
// so `make demo`'s 3 s model load showed no wait at all). The line is logged once while nothing
// changes, and the stage routes only after the model loads.
func TestProgressSaysTheModelIsLoadingWhenTheWaitStarts(t *testing.T) {
	f := newFixture(t)
	m := serveSlowModel(f)
	var l timedLog
	done := make(chan error, 1)
	go func() {
		_, err := f.cl.Stage(context.Background(), f.cfg("Blue_0", imgB), l.log)
		done <- err
	}()
	waitProbed(t, f, 1)
	unready := time.Now() // the pods exist, running and failing their probe
	loading := "container model: running, not ready: readiness probe GET / on port 5001 not passing (a model still loading fails it)"
	var line string
	var at time.Time
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if line, at = l.first(loading); !at.IsZero() {
			break
		}
	}
	if at.IsZero() {
		t.Fatalf("5s after blue's pods started loading, the progress said nothing of it:\n%s", strings.Join(l.lines, "\n"))
	}
	if d := at.Sub(unready); d > 3*time.Second {
		t.Errorf("the loading model was said %s after the pods were there, want within ~1s", d)
	}
	if !strings.HasPrefix(line, "waiting for Deployment "+f.ns+"/model-blue: 0 of 1 replicas available; pod model-blue-") {
		t.Errorf("progress line %q", line)
	}
	time.Sleep(1500 * time.Millisecond) // several polls and pod lists: nothing new to say
	l.mu.Lock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, loading) {
			n++
		}
	}
	l.mu.Unlock()
	if n != 1 {
		t.Errorf("the unchanged loading line was logged %d times within 1.5s, want once (repeated every 10s)", n)
	}
	m.load()
	if err := <-done; err != nil {
		t.Fatalf("Blue_0 after the model loaded: %v", err)
	}
}
