package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/summary"
)

// TestPlanAgainstClusterWritesNothing: a plan uses server-side dry run, shows the diff of the
// weights it would change, and persists nothing; status then still reports the old split.
func TestPlanAgainstClusterWritesNothing(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // Blue_0 with imgB on green imgA
	f.rec.reset()
	res, err := f.cl.Plan(context.Background(), f.cfg("Blue_50", ""))
	if err != nil {
		t.Fatal(err)
	}
	requests, writes := f.rec.counts()
	if len(writes) != 0 {
		t.Errorf("plan wrote %v", writes)
	}
	t.Logf("plan Blue_50: %d requests", requests)
	for _, want := range []string{"--- live VirtualService " + f.ns + "/mlmodel-virtualservice", "-      weight: 100", "+      weight: 50", "+    - destination:\n+        host: model-svc-blue"} {
		if !strings.Contains(res.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, res.Diff)
		}
	}
	if res.Weights != (summary.Weights{Green: 50, Blue: 50}) || !res.DryRun || res.Action != "plan" {
		t.Errorf("plan result %+v", res)
	}
	st, err := f.cl.Status(context.Background(), f.cfg("Blue_0", ""))
	if err != nil {
		t.Fatal(err)
	}
	if st.Weights != (summary.Weights{Green: 100}) || st.Stage != "Blue_0" || st.Images.Blue != imgB || !st.Ready.Blue {
		t.Errorf("status after plan: %+v", st)
	}
	if st.ChangedBy != "local" || st.ChangedAt.IsZero() {
		t.Errorf("status change record: by %q at %v", st.ChangedBy, st.ChangedAt)
	}
}

// TestDryRunOfCreation: a dry run of Blue_0 on an empty namespace validates every object on the
// server (which would reject an invalid one) and creates nothing.
func TestDryRunOfCreation(t *testing.T) {
	f := newFixture(t)
	c := f.cfg("Blue_0", imgA)
	c.DryRun = true
	res, err := f.run(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, writes := f.rec.counts(); len(writes) != 0 {
		t.Errorf("dry run wrote %v", writes)
	}
	if len(res.Changes) != 5 || !strings.Contains(res.Diff, "+++ desired Deployment "+f.ns+"/model-blue") {
		t.Errorf("dry run changes %q\ndiff:\n%s", res.Changes, res.Diff)
	}
	if routing, images := f.live(); len(images) != 0 || routing.References("blue") {
		t.Errorf("dry run left objects: %v %v", images, routing)
	}
}
