package engine_test

// Regression tests for the brownfield break-it review (branch bfbreak): other VirtualServices on
// mlcanary's Gateway are judged by the virtual hosts Istio builds from them, and never refuse
// Rollback.

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// auditVS is another team's VirtualService on mlcanary's Gateway for hosts, with one route.
func auditVS(hosts []any, route map[string]any) map[string]any {
	return virtualService("audit-vs", map[string]any{"hosts": hosts, "gateways": []any{"mlmodel-gateway"}, "http": []any{route}})
}

var auditCatchAll = map[string]any{"route": []any{map[string]any{"destination": map[string]any{"host": "audit", "port": map[string]any{"number": int64(80)}}}}}

// TestOlderVirtualServiceForItsOwnHostLeavesOursEveryOtherHost: another team's VirtualService,
// older than mlcanary's, bound to the same Gateway for its own host audit.example.com with a
// catch-all route. Istio makes that host its own virtual host (routes merge only for the same
// one) and Envoy sends it only the requests for audit.example.com; mlcanary's routes for "*" get
// every other. So each stage — Blue_0, Shadow_10, Blue_50, Rollback — goes ahead and routes as
// usual, with a note naming it and the host it takes; the record of the check keeps the note
// (not a clean check), and a re-run writes nothing (bfbreak
// TestBFOlderVSOnOwnSpecificHostDoesNotShadowWildcard).
func TestOlderVirtualServiceForItsOwnHostLeavesOursEveryOtherHost(t *testing.T) {
	f := newFixture(t)
	applyAs(t, "kubectl-client-side-apply", kube.VirtualServices, f.ns, auditVS([]any{"audit.example.com"}, auditCatchAll))
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has a resolution of one second
	newD0().apply(t, f)
	for _, stage := range []string{"Blue_0", "Shadow_10", "Blue_50", "Rollback"} {
		res, err := f.try(stage, imgB)
		if stage == "Rollback" {
			res, err = f.try(stage, "")
		}
		if err != nil {
			t.Fatalf("%s refused over a VirtualService for another, narrower host: %v", stage, err)
		}
		r, _ := f.live()
		t.Logf("%s: routing %+v; notes %q", stage, r, res.Notes)
		switch stage {
		case "Blue_0":
			if !r.Headers["blue"] || r.Weights["green"] != 100 {
				t.Errorf("Blue_0 routing %+v", r)
			}
		case "Blue_50":
			if r.Weights["blue"] != 50 {
				t.Errorf("Blue_50 routing %+v", r)
			}
		case "Rollback":
			if r.Weights["green"] != 100 || r.Headers["blue"] {
				t.Errorf("Rollback routing %+v", r)
			}
		}
		noted := false
		for _, n := range res.Notes {
			noted = noted || strings.Contains(n, "audit-vs") && strings.Contains(n, "gets every request for audit.example.com")
		}
		if stage == "Blue_0" && !noted {
			t.Errorf("Blue_0 notes %q; want one naming audit-vs and the host it takes", res.Notes)
		}
		if rec := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").GetAnnotations()[engine.PeersCheckedAnnotation]; stage == "Blue_0" && !strings.Contains(rec, "gets every request for audit.example.com") {
			t.Errorf("Blue_0 noted a VirtualService, recorded %q; want the note in the record", rec)
		}
		if stage == "Blue_50" && !noted {
			t.Errorf("Blue_50 (weights only, not checking again) notes %q; want the recorded note again", res.Notes)
		}
	}
	f.rec.reset()
	f.stage("Rollback", "")
	noWrites(t, f, "re-running Rollback")
}

// TestShadowingVirtualServiceNeverRefusesRollback: another team's VirtualService, older than
// mlcanary's and on the same Gateway host "*", first takes only /score/v2 (a note); after Blue_20
// its owner turns its route into a catch-all, which Istio tries before mlcanary's default route.
// A weight change trusts the record of the last check (which noted /score/v2), as documented, so
// the record is removed here (kubectl edit) to make Blue_50 check: it refuses before any write,
// traffic staying where Blue_20 put it; Rollback — the stage
// that moves traffic back to green — goes ahead with a note naming it, and leaves every route of
// mlcanary's on green.
func TestShadowingVirtualServiceNeverRefusesRollback(t *testing.T) {
	f := newFixture(t)
	underScore := map[string]any{"match": []any{map[string]any{"uri": map[string]any{"prefix": "/score/v2"}}}, "route": auditCatchAll["route"]}
	applyAs(t, "helm", kube.VirtualServices, f.ns, auditVS([]any{"*"}, underScore))
	time.Sleep(1100 * time.Millisecond)
	newD0().apply(t, f)
	f.stage("Blue_0", imgB)
	f.stage("Blue_20", imgB)
	applyAs(t, "helm", kube.VirtualServices, f.ns, auditVS([]any{"*"}, auditCatchAll))
	patch := `{"metadata":{"annotations":{"` + engine.PeersCheckedAnnotation + `":null}}}`
	if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(f.ns).Patch(context.Background(), "mlmodel-virtualservice", types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	before, _ := f.live()
	writes, err := f.stageWith("Blue_50", imgB, nil)
	if err == nil || !strings.Contains(err.Error(), "audit-vs") || !strings.Contains(err.Error(), "which matches every request") {
		t.Fatalf("Blue_50 under an older catch-all on the same host: %v; want a refusal naming audit-vs", err)
	}
	if after, _ := f.live(); len(writes) > 0 || !after.Equal(before) {
		t.Fatalf("refused Blue_50 wrote %v; routing %+v, was %+v", writes, after, before)
	}
	res, err := f.try("Rollback", "")
	if err != nil {
		t.Fatalf("Rollback refused: %v", err)
	}
	t.Logf("Rollback notes %q", res.Notes)
	noted := false
	for _, n := range res.Notes {
		noted = noted || strings.HasPrefix(n, "Rollback goes ahead") && strings.Contains(n, "audit-vs")
	}
	if !noted {
		t.Errorf("Rollback notes %q; want one saying it goes ahead despite audit-vs", res.Notes)
	}
	if r, _ := f.live(); r.Weights["green"] != 100 || r.Weights["blue"] != 0 || r.Headers["blue"] {
		t.Errorf("after Rollback routing %+v, want everything on green", r)
	}
	if rec := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").GetAnnotations()[engine.PeersCheckedAnnotation]; rec != "" {
		t.Errorf("Rollback that noted a shadowing VirtualService recorded its check %q", rec)
	}
}
