package istiovalidate

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/admission"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/render"
)

const (
	seed  = 20261129
	cases = 3000
)

// TestVerdictsEqualIstios generates live states and, for every VirtualService and Gateway mlcanary
// would write over them (the render, merge and check functions the engine calls, in its order),
// compares mlcanary's verdict with Istio's webhook verdict. They must agree on every object the
// merge produces. The merge itself refuses, before any check, a few states for mlcanary's own
// reasons (a foreign catch-all in front of its default route, a foreign route with the name of one
// of its routes, someone else's server on its port without its hosts): those are counted apart.
func TestVerdictsEqualIstios(t *testing.T) {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed))}
	var n struct{ vs, gw, agree, refusedBoth, mergeRefused, validLiveInvalidMerge, layerAgree int }
	compare := func(i int, kind string, desired, live *unstructured.Unstructured, ours error) {
		if ours != nil && !strings.Contains(ours.Error(), "would break Istio's validation rules") {
			n.mergeRefused++ // mlcanary's own rule, before anything is checked or sent
			return
		}
		istio := Verdict(desired.Object)
		if kind == "VirtualService" {
			n.vs++
			layer := admission.VirtualService(typed(t, desired))
			if (layer == nil) == (istio == nil) {
				n.layerAgree++
			} else {
				t.Errorf("case %d: admission.VirtualService says %v, Istio says %v, on\n%s", i, layer, istio, dump(desired))
			}
		} else {
			n.gw++
		}
		if (ours == nil) != (istio == nil) {
			t.Errorf("case %d: mlcanary says %v, Istio says %v, on %s\n%s", i, ours, istio, kind, dump(desired))
			return
		}
		n.agree++
		if istio != nil {
			n.refusedBoth++
			if live != nil && Verdict(live.Object) == nil {
				n.validLiveInvalidMerge++
			}
		}
	}
	for i := range cases {
		lc := g.liveCase()
		desired, err := render.Unstructured(render.VirtualService(&lc.cfg, lc.routing))
		if err != nil {
			t.Fatal(err)
		}
		ownership.Bind(ownership.BindingOf(&lc.cfg, lc.vs), desired, lc.vs) // as the engine does before stamping
		ownership.Adopt(desired, lc.vs)
		ours := ownership.MergeCheckedVirtualService(&lc.cfg, desired, lc.vs)
		if routes, _, _ := unstructured.NestedSlice(desired.Object, "spec", "http"); len(routes) > 0 || ours != nil {
			compare(i, "VirtualService", desired, lc.vs, ours)
		}
		gw, err := render.Unstructured(render.Gateway(&lc.cfg))
		if err != nil {
			t.Fatal(err)
		}
		if !ownership.Adopt(gw, lc.gw) {
			compare(i, "Gateway", gw, lc.gw, ownership.MergeCheckedGateway(gw, lc.gw))
		}
	}
	total := n.vs + n.gw
	t.Logf("%d live states: mlcanary's merge refused %d objects by its own rules; of the %d VirtualServices and %d Gateways it would write, "+
		"its verdict equals Istio's on %d of %d (%.2f%%), %d refused by both (%d of them merged from a live object Istio admits); "+
		"admission.VirtualService alone equals Istio on %d of %d",
		cases, n.mergeRefused, n.vs, n.gw, n.agree, total, 100*float64(n.agree)/float64(total), n.refusedBoth, n.validLiveInvalidMerge, n.layerAgree, n.vs)
}

func typed(t *testing.T, u *unstructured.Unstructured) *networkingv1alpha3.VirtualService {
	t.Helper()
	data, err := json.Marshal(u.Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	var vs networkingv1alpha3.VirtualService
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	return &vs
}

func dump(u *unstructured.Unstructured) string {
	data, _ := json.MarshalIndent(u.Object["spec"], "", "  ")
	return string(data)
}
