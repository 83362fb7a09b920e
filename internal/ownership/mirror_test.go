package ownership

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// TestMirrorOwnership: the default route's mirror is mlcanary's only when recorded
// (routing.OwnedMirrorAnnotation). Recorded, it is read as the routing's Mirror, is no foreign
// reference to blue, and a stage replaces or removes it. Not recorded, it is someone else's: kept
// by a stage that mirrors nothing, a reference that blocks removing blue, and a Shadow stage
// refuses rather than replace it — `mirror` or `mirrors`, to blue or elsewhere.
func TestMirrorOwnership(t *testing.T) {
	c := config.Default()
	const (
		def    = `"name":"mlcanary-default","route":[{"destination":{"host":"model-svc-green","port":{"number":5001}},"weight":100}]`
		mirror = `"mirror":{"host":"model-svc-blue","port":{"number":5001}},"mirrorPercentage":{"value":10}`
	)
	vs := func(recorded bool, defaultRoute string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"http": []any{route64(t, defaultRoute)}}}}
		u.SetNamespace(c.Namespace)
		u.SetName(c.VirtualService)
		ann := map[string]string{routing.OwnedRoutesAnnotation: routing.DefaultRouteName}
		if recorded {
			ann[routing.OwnedMirrorAnnotation] = routing.DefaultRouteName
		}
		u.SetAnnotations(ann)
		return u
	}
	rendered := func(mirror int) []any {
		r := routing.NewRouting(true, false, 100, 0)
		r.Mirror = mirror
		u, err := render.Unstructured(render.VirtualService(&c, r))
		if err != nil {
			t.Fatal(err)
		}
		http, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
		return http
	}
	defaultOf := func(routes []any) string {
		for _, r := range routes {
			if m := r.(map[string]any); m["name"] == routing.DefaultRouteName {
				b, _ := json.Marshal(map[string]any{"mirror": m["mirror"], "mirrorPercentage": m["mirrorPercentage"], "mirrors": m["mirrors"]})
				return string(b)
			}
		}
		return ""
	}

	ours := vs(true, `{`+def+`,`+mirror+`}`)
	if got := RoutingOf(&c, ours).Mirror; got != 10 {
		t.Errorf("recorded mirror read as %d%%, want 10%%", got)
	}
	if refs := ForeignReferences(&c, ours)[config.Blue]; len(refs) != 0 {
		t.Errorf("mlcanary's recorded mirror counted as someone else's route to blue: %v", refs)
	}
	merged, err := mergeRoutes(&c, rendered(0), ours, nil)
	if err != nil || defaultOf(merged) != `{"mirror":null,"mirrorPercentage":null,"mirrors":null}` {
		t.Errorf("a stage without a mirror after Shadow_10: %s, %v; want the mirror removed", defaultOf(merged), err)
	}
	merged, err = mergeRoutes(&c, rendered(30), ours, nil)
	if err != nil || !strings.Contains(defaultOf(merged), `"mirrorPercentage":{"value":30}`) {
		t.Errorf("Shadow_30 after Shadow_10: %s, %v; want 30%%", defaultOf(merged), err)
	}

	theirs := vs(false, `{`+def+`,`+mirror+`}`)
	if got := RoutingOf(&c, theirs).Mirror; got != 0 {
		t.Errorf("someone else's mirror read as mlcanary's %d%%", got)
	}
	if refs := ForeignReferences(&c, theirs)[config.Blue]; len(refs) != 1 || !refs[0].Mirror {
		t.Errorf("someone else's mirror to blue: references %v, want one mirror", refs)
	}
	merged, err = mergeRoutes(&c, rendered(0), theirs, nil)
	if err != nil || !strings.Contains(defaultOf(merged), `"mirrorPercentage":{"value":10}`) {
		t.Errorf("a stage without a mirror dropped someone else's: %s, %v", defaultOf(merged), err)
	}
	for _, foreign := range []string{
		mirror,
		`"mirror":{"host":"audit.tools.svc.cluster.local"}`,
		`"mirrors":[{"destination":{"host":"audit.tools.svc.cluster.local"},"percentage":{"value":5}}]`,
	} {
		_, err := mergeRoutes(&c, rendered(10), vs(false, `{`+def+`,`+foreign+`}`), nil)
		if err == nil || !strings.Contains(err.Error(), "is not mlcanary's") || !strings.Contains(err.Error(), "remove that mirror first") {
			t.Errorf("Shadow_10 over someone else's %s: %v, want a refusal naming it", foreign, err)
		}
	}

	// Recorded, but no longer the mirror Shadow_N writes: someone re-pointed it under the record.
	for _, repointed := range []string{
		`"mirror":{"host":"audit.tools.svc.cluster.local"},"mirrorPercentage":{"value":10}`,
		`"mirror":{"host":"model-svc-blue","port":{"number":5001},"subset":"v2"},"mirrorPercentage":{"value":10}`,
		`"mirror":{"host":"model-svc-blue","port":{"number":9090}},"mirrorPercentage":{"value":10}`,
		`"mirror":{"host":"model-svc-blue.abtesting.svc.cluster.local","port":{"number":5001}},"mirrorPercentage":{"value":10}`,
		`"mirror":{"host":"model-svc-blue"},"mirrorPercentage":{"value":10}`,
		mirror + `,"mirrors":[{"destination":{"host":"audit.tools.svc.cluster.local"}}]`,
		`"mirrors":[{"destination":{"host":"model-svc-blue","port":{"number":5001}},"percentage":{"value":10}}]`,
	} {
		live := vs(true, `{`+def+`,`+repointed+`}`)
		if got := RoutingOf(&c, live).Mirror; got != 0 {
			t.Errorf("recorded but re-pointed %s read as mlcanary's %d%%", repointed, got)
		}
		if merged, err := mergeRoutes(&c, rendered(0), live, nil); err != nil || !strings.Contains(defaultOf(merged), `"mirrorPercentage":{"value":10}`) && !strings.Contains(defaultOf(merged), `"mirrors":[`) {
			t.Errorf("a stage without a mirror dropped the re-pointed %s: %s, %v", repointed, defaultOf(merged), err)
		}
		if _, err := mergeRoutes(&c, rendered(20), live, nil); err == nil || !strings.Contains(err.Error(), "is not mlcanary's") {
			t.Errorf("Shadow_20 over the re-pointed %s: %v, want a refusal", repointed, err)
		}
	}
	// Recorded, with only its share changed: still mlcanary's, set afresh.
	shared := vs(true, `{`+def+`,"mirror":{"host":"model-svc-blue","port":{"number":5001}},"mirrorPercentage":{"value":55}}`)
	if got := RoutingOf(&c, shared).Mirror; got != 55 {
		t.Errorf("its own mirror with a changed share read as %d%%, want 55%%", got)
	}
	if merged, err := mergeRoutes(&c, rendered(20), shared, nil); err != nil || !strings.Contains(defaultOf(merged), `"mirrorPercentage":{"value":20}`) {
		t.Errorf("Shadow_20 over its own mirror with a changed share: %s, %v", defaultOf(merged), err)
	}

	for js, want := range map[string]int{
		`{"mirror":{"host":"model-svc-blue"}}`:                                               100, // Istio's default
		`{"mirror":{"host":"model-svc-blue"},"mirrorPercentage":{"value":0.5}}`:              1,   // any share mirrors
		`{"mirror":{"host":"model-svc-blue"},"mirrorPercentage":{}}`:                         0,
		`{"mirror":{"host":"model-svc-blue.abtesting.svc"},"mirrorPercentage":{"value":40}}`: 40,
		`{"mirror":{"host":"model-svc-green"},"mirrorPercentage":{"value":40}}`:              0,
	} {
		if got := mirrorShare(&c, route64(t, js), config.Blue); got != want {
			t.Errorf("mirrorShare(%s) = %d, want %d", js, got, want)
		}
	}
}
