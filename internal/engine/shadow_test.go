package engine_test

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestShadowNeverMirrorsToAnUnreadyBlue: a blue whose rollout never finishes is never mirrored to.
// Shadow_10 waits for it (its timeout), fails naming the precondition and writes nothing; once blue
// is ready, it mirrors.
func TestShadowNeverMirrorsToAnUnreadyBlue(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path) // green only
	ctrl.Hold(f.ns, "model-blue")
	defer ctrl.Release(f.ns, "model-blue")
	c := f.cfg("Blue_0", imgB)
	c.Timeout = 500 * time.Millisecond
	if _, err := f.run(c); err == nil {
		t.Fatal("Blue_0 with a blue that never becomes ready succeeded")
	}
	shadow := f.cfg("Shadow_10", "")
	shadow.Timeout = 300 * time.Millisecond
	f.rec.reset()
	if _, err := f.run(shadow); err == nil || !strings.Contains(err.Error(), "Shadow_10: blue (Deployment "+f.ns+"/model-blue) must be ready") {
		t.Errorf("Shadow_10 with an unready blue: %v", err)
	}
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("Shadow_10 with an unready blue wrote %v", writes)
	}
	if routing, _ := f.live(); routing.Mirror != 0 || routing.References(config.Blue) {
		t.Errorf("after the refusal: %+v, want nothing sent to blue", routing)
	}
	ctrl.Release(f.ns, "model-blue")
	f.stage("Blue_0", imgB)
	f.stage("Shadow_10", "")
	if routing, _ := f.live(); routing.Mirror != 10 {
		t.Errorf("Shadow_10 once blue is ready: mirror %d%%, want 10%%", routing.Mirror)
	}
}

// TestSomeoneElsesMirrorIsNeverReplaced: a mirror someone put on mlcanary's default route (by hand,
// not recorded as mlcanary's) is theirs. Shadow_10 refuses before any write, naming it (Istio allows
// one mirror per route, so mlcanary's would replace it); the stages that mirror nothing keep it —
// Blue_50 and Rollback here, when it mirrors elsewhere. One to blue is a route mlcanary cannot take
// away: Rollback returns all traffic to green but keeps blue, saying why.
func TestSomeoneElsesMirrorIsNeverReplaced(t *testing.T) {
	for _, tc := range []struct {
		name, host string
		toBlue     bool
	}{
		{"to an audit service", "audit.tools.svc.cluster.local", false},
		{"to blue", "model-svc-blue", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach(states[4].path) // Blue_0 of the next release
			editVS(t, f.ns, func(m map[string]any) {
				m["mirror"] = map[string]any{"host": tc.host}
				m["mirrorPercentage"] = map[string]any{"value": int64(5)}
			})
			f.rec.reset()
			_, err := f.try("Shadow_10", "")
			if err == nil || !strings.Contains(err.Error(), "already has a mirror that is not mlcanary's (to "+tc.host+"; mlcanary's mirrors only to model-svc-blue port 5001)") {
				t.Errorf("Shadow_10 over someone else's mirror: %v", err)
			}
			if _, writes := f.rec.counts(); len(writes) != 0 {
				t.Errorf("the refused Shadow_10 wrote %v", writes)
			}
			theirs := func(stage string) {
				t.Helper()
				vs := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice")
				routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
				for _, r := range routes {
					m := r.(map[string]any)
					if m["name"] != "mlcanary-default" {
						continue
					}
					host, _, _ := unstructured.NestedString(m, "mirror", "host")
					share, _, _ := unstructured.NestedInt64(m, "mirrorPercentage", "value")
					if host != tc.host || share != 5 {
						t.Errorf("after %s, the default route mirrors to %q %d%%, want someone else's mirror to %s 5%% kept", stage, host, share, tc.host)
					}
					return
				}
				t.Errorf("after %s, no default route", stage)
			}
			if !tc.toBlue {
				f.stage("Blue_50", "")
				theirs("Blue_50")
			}
			res := f.stage("Rollback", "")
			theirs("Rollback")
			_, images := f.live()
			if kept := images[config.Blue] != ""; kept != tc.toBlue {
				t.Errorf("Rollback: blue kept %v, want %v; notes %q", kept, tc.toBlue, res.Notes)
			}
			if tc.toBlue && !strings.Contains(strings.Join(res.Notes, "\n"), "(as a mirror)") {
				t.Errorf("Rollback kept blue without saying it is for someone else's mirror: %q", res.Notes)
			}
		})
	}
}
