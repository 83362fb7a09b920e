package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// TestGatewayPeersCheckRecorded: the check of the other VirtualServices on mlcanary's Gateway host
// (issue #13's F4) is recorded on mlcanary's VirtualService when it finds nothing, and a stage that
// only moves weights on a VirtualService recording it for the same Gateway, hosts and --uri-prefix
// does not list every VirtualService again (issue #12, "Speed"): weights do not change whether an
// older VirtualService shadows mlcanary's. A VirtualService without the record (one an older
// mlcanary or someone else wrote) is checked by a weight change too, and refused when shadowed.
// (A stage that changes the header routes checks whatever the record says:
// TestOlderVirtualServiceOnTheGatewayHostShadowsOurs.)
func TestGatewayPeersCheckRecorded(t *testing.T) {
	f := newFixture(t)
	// Another team's VirtualService, older than mlcanary's, on another Gateway for now.
	other := func(gateway string) map[string]any {
		return virtualService("otherteam-catchall", map[string]any{"hosts": []any{"*"}, "gateways": []any{gateway},
			"http": []any{map[string]any{"name": "echo", "route": []any{map[string]any{"destination": map[string]any{"host": "echo"}}}}}})
	}
	applyAs(t, "helm", kube.VirtualServices, f.ns, other("other-gateway"))
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has a resolution of one second
	f.reach(states[4].path)             // …, Green_100, Blue_0 with a new image: the header routes changed, so it checked
	record := func() string {
		return get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").GetAnnotations()[engine.PeersCheckedAnnotation]
	}
	want := f.ns + "/mlmodel-gateway * /score"
	if got := record(); got != want {
		t.Fatalf("after Blue_0 the VirtualService records %s %q, want %q", engine.PeersCheckedAnnotation, got, want)
	}
	listed := func() bool {
		return slices.ContainsFunc(f.rec.sentSince(), func(l string) bool { return requestOf(l) == "LIST virtualservices (all namespaces)" })
	}
	f.rec.reset()
	f.stage("Blue_50", "")
	if listed() || record() != want {
		t.Errorf("Blue_50 on a recorded check: listed the VirtualServices %v, record %q", listed(), record())
	}

	// The older VirtualService now binds to mlcanary's Gateway with a catch-all: the record says
	// the last check found nothing, so a weight change does not look again (the trade: the next
	// stage that changes the header routes does).
	applyAs(t, "helm", kube.VirtualServices, f.ns, other(f.ns+"/mlmodel-gateway"))
	f.rec.reset()
	f.stage("Blue_40", "")
	if listed() {
		t.Errorf("Blue_40 on a recorded check listed the VirtualServices")
	}
	// Without the record, the same weight change checks, and is refused before any write.
	patch := `{"metadata":{"annotations":{"` + engine.PeersCheckedAnnotation + `":null}}}`
	if _, err := env.Dynamic.Resource(kube.VirtualServices).Namespace(f.ns).Patch(context.Background(), "mlmodel-virtualservice", types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	before, _ := f.live()
	f.rec.reset()
	_, err := f.stageWith("Blue_50", "", nil)
	if err == nil || !strings.Contains(err.Error(), "otherteam-catchall, created before mlcanary's and bound to the same Gateway") || !listed() {
		t.Fatalf("Blue_50 without the record: %v (listed: %v), want the refusal naming otherteam-catchall", err, listed())
	}
	noWrites(t, f, "the refused Blue_50")
	if after, _ := f.live(); !after.Equal(before) {
		t.Errorf("traffic moved from %v to %v", before, after)
	}
}
