package engine_test

import (
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestGreen100OntoAShrunkAutoscaledGreenIsRefused is G17's case (break-it review of #9): Blue_Green
// scales green to blue's 6 once; green then carries nothing while the team verifies blue, and its
// CPU HPA takes it to its minimum, 2. Green_100 used to move all of blue's traffic (6 replicas'
// worth) onto 2 pods, exit 0, because --capacity-check auto trusts an autoscaler to add replicas
// as the traffic arrives — minutes too late for a 100% step. Under auto it is now refused before
// any write, naming the minimum to raise; --capacity-check warn still moves the traffic.
func TestGreen100OntoAShrunkAutoscaledGreenIsRefused(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	applyAs(t, "helm", hpaGVR, f.ns, hpaSpec("scoring", "model-green", 2, 10))
	scaleTo(t, f.ns, "model-green", "horizontal-pod-autoscaler", 6)
	for _, st := range []string{"Blue_0", "Blue_50", "Blue_100", "Blue_Green"} {
		img := ""
		if st == "Blue_0" {
			img = imgB
		}
		f.stage(st, img)
	}
	scaleTo(t, f.ns, "model-green", "horizontal-pod-autoscaler", 2)
	f.rec.reset()
	_, err := f.try("Green_100", "")
	noWrites(t, f, "Green_100 refused")
	if want := "raise that autoscaler's minimum to 6"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Green_100 onto green's 2 replicas from blue's 6: err %v; want refused with %q", err, want)
	}
	c := f.cfg("Green_100", "")
	c.CapacityCheck = config.CapacityWarn
	if _, err := f.run(c); err != nil {
		t.Fatalf("Green_100 --capacity-check warn: %v", err)
	}
	if routing, _ := f.live(); routing.Weights[config.Green] != 100 {
		t.Errorf("Green_100 under warn left green at %d%%", routing.Weights[config.Green])
	}
}
