package engine

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The write/no-write comparison (compare.go): a re-run of a stage that already holds writes
// nothing, so upToDate must say "held" for everything the API server adds or reorders on its own
// and "write" for every change of a field mlcanary sets. These cases run without a cluster; the
// engine's API-server tests (the matrix's zero-write re-runs) prove the same on real objects.

func obj(apiVersion string, fields map[string]any) *unstructured.Unstructured {
	o := map[string]any{"apiVersion": apiVersion, "kind": "X", "metadata": map[string]any{"name": "x", "namespace": "ns"}}
	for k, v := range fields {
		o[k] = v
	}
	return &unstructured.Unstructured{Object: o}
}

func containers(names ...string) map[string]any {
	var cs []any
	for _, n := range names {
		c := map[string]any{"image": "img:" + n}
		if n != "" {
			c["name"] = n
		}
		cs = append(cs, c)
	}
	return map[string]any{"template": map[string]any{"spec": map[string]any{"containers": cs}}}
}

// TestStampHash: the hash covers everything mlcanary sets but the volatile annotations and itself.
func TestStampHash(t *testing.T) {
	hash := func(u *unstructured.Unstructured) string {
		u = u.DeepCopy()
		stamp(u)
		return u.GetAnnotations()[HashAnnotation]
	}
	// Every object mlcanary writes carries its annotations (stage, weights, images).
	base := obj("apps/v1", map[string]any{"spec": map[string]any{"replicas": int64(2)}})
	base.SetAnnotations(map[string]string{StageAnnotation: "Blue_0"})
	with := func(edit func(u *unstructured.Unstructured)) *unstructured.Unstructured {
		u := base.DeepCopy()
		edit(u)
		return u
	}
	annotate := func(kv ...string) func(u *unstructured.Unstructured) {
		return func(u *unstructured.Unstructured) {
			ann := u.GetAnnotations()
			for i := 0; i < len(kv); i += 2 {
				ann[kv[i]] = kv[i+1]
			}
			u.SetAnnotations(ann)
		}
	}
	cases := []struct {
		name string
		u    *unstructured.Unstructured
		same bool
	}{
		{"identical", base.DeepCopy(), true},
		{"changed-at and changed-by differ", with(annotate(ChangedAtAnnotation, "2026-11-29T12:00:00Z", ChangedByAnnotation, "run 7")), true},
		{"an old hash is present", with(annotate(HashAnnotation, "0123")), true},
		{"a field mlcanary sets changed", with(func(u *unstructured.Unstructured) { u.Object["spec"] = map[string]any{"replicas": int64(3)} }), false},
		{"a field mlcanary stopped setting", with(func(u *unstructured.Unstructured) { u.Object["spec"] = map[string]any{} }), false},
		{"an annotation mlcanary sets changed", with(annotate(StageAnnotation, "Blue_50")), false},
		{"an annotation mlcanary sets added", with(annotate(WeightsAnnotation, "green=50,blue=50")), false},
	}
	want := hash(base)
	if len(want) != 24 {
		t.Fatalf("hash %q: want 12 bytes of sha256 in hex", want)
	}
	for _, tc := range cases {
		if got := hash(tc.u); (got == want) != tc.same {
			t.Errorf("%s: hash %s, base %s, want same=%v", tc.name, got, want, tc.same)
		}
	}
	stamped := base.DeepCopy()
	stamp(stamped)
	if again := hash(stamped); again != want {
		t.Errorf("stamping a stamped object changed its hash: %s, then %s", want, again)
	}
}

// TestUpToDate: what makes a re-run write nothing, and what makes it write.
func TestUpToDate(t *testing.T) {
	deploy := func(spec map[string]any) *unstructured.Unstructured {
		return obj("apps/v1", map[string]any{"spec": spec})
	}
	vs := func(http ...any) *unstructured.Unstructured {
		return obj("networking.istio.io/v1", map[string]any{"spec": map[string]any{"hosts": []any{"*"}, "http": http}})
	}
	route := func(name string) map[string]any {
		return map[string]any{"name": name, "route": []any{map[string]any{"destination": map[string]any{"host": "svc-" + name}}}}
	}
	// live is what the API server returns for desired: the same hash, plus what the server or
	// others add (status, resourceVersion, defaults) unless edit changes it.
	live := func(desired *unstructured.Unstructured, edit func(map[string]any)) *unstructured.Unstructured {
		l := desired.DeepCopy()
		l.SetResourceVersion("42")
		l.SetManagedFields(nil)
		l.Object["status"] = map[string]any{"observedGeneration": int64(1)}
		if spec, ok := l.Object["spec"].(map[string]any); ok && l.GetAPIVersion() == "apps/v1" {
			spec["revisionHistoryLimit"] = int64(10) // a server default
		}
		if edit != nil {
			edit(l.Object)
		}
		return l
	}
	spec := func(o map[string]any) map[string]any { return o["spec"].(map[string]any) }
	podSpec := func(o map[string]any) map[string]any {
		return spec(o)["template"].(map[string]any)["spec"].(map[string]any)
	}
	twoContainers := containers("model", "exporter")
	cases := []struct {
		name    string
		desired *unstructured.Unstructured
		live    func(desired *unstructured.Unstructured) *unstructured.Unstructured
		want    bool
	}{
		{"absent", deploy(map[string]any{"replicas": int64(2)}),
			func(*unstructured.Unstructured) *unstructured.Unstructured { return nil }, false},
		{"as written, plus server fields and defaults", deploy(map[string]any{"replicas": int64(2)}),
			func(d *unstructured.Unstructured) *unstructured.Unstructured { return live(d, nil) }, true},
		{"volatile annotations differ", deploy(map[string]any{"replicas": int64(2)}),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				l := live(d, nil)
				ann := l.GetAnnotations()
				ann[ChangedAtAnnotation] = "yesterday"
				l.SetAnnotations(ann)
				return l
			}, true},
		{"hash differs: mlcanary's own fields changed since", deploy(map[string]any{"replicas": int64(2)}),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				l := live(d, nil)
				l.SetAnnotations(map[string]string{HashAnnotation: "000000000000000000000000"})
				return l
			}, false},
		{"a field mlcanary set drifted (someone scaled it)", deploy(map[string]any{"replicas": int64(2)}),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) { spec(o)["replicas"] = int64(5) })
			}, false},
		{"a field mlcanary set was removed", deploy(map[string]any{"replicas": int64(2), "paused": false}),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) { delete(spec(o), "paused") })
			}, false},
		{"an empty map or null the server dropped", deploy(map[string]any{"replicas": int64(2), "strategy": map[string]any{}, "selector": nil}),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) { delete(spec(o), "strategy"); delete(spec(o), "selector") })
			}, true},
		{"a scalar became a map", deploy(map[string]any{"replicas": int64(2)}),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) { spec(o)["replicas"] = map[string]any{} })
			}, false},
		{"a named container someone added between mlcanary's", deploy(twoContainers),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					cs := podSpec(o)["containers"].([]any)
					podSpec(o)["containers"] = []any{cs[0], map[string]any{"name": "istio-proxy", "image": "proxy"}, cs[1]}
				})
			}, true},
		{"a named container someone appended", deploy(twoContainers),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					podSpec(o)["containers"] = append(podSpec(o)["containers"].([]any), map[string]any{"name": "sidecar"})
				})
			}, true},
		{"mlcanary's containers in another order", deploy(twoContainers),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					cs := podSpec(o)["containers"].([]any)
					podSpec(o)["containers"] = []any{cs[1], cs[0], map[string]any{"name": "sidecar"}}
				})
			}, false},
		{"an unnamed entry someone put between mlcanary's named ones", deploy(twoContainers),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					cs := podSpec(o)["containers"].([]any)
					podSpec(o)["containers"] = []any{cs[0], map[string]any{"image": "anonymous"}, cs[1]}
				})
			}, false},
		{"mlcanary's container lost", deploy(twoContainers),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					podSpec(o)["containers"] = podSpec(o)["containers"].([]any)[:1]
				})
			}, false},
		{"a container's image changed", deploy(twoContainers),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					podSpec(o)["containers"].([]any)[1].(map[string]any)["image"] = "img:other"
				})
			}, false},
		{"an unnamed list of mlcanary's with an entry added", deploy(containers("")),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					podSpec(o)["containers"] = append(podSpec(o)["containers"].([]any), map[string]any{"name": "x"})
				})
			}, false},
		{"Istio: the routes as written", vs(route("a"), route("b")),
			func(d *unstructured.Unstructured) *unstructured.Unstructured { return live(d, nil) }, true},
		{"Istio: a route someone added (Istio's lists are atomic: must match)", vs(route("a"), route("b")),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					spec(o)["http"] = append(spec(o)["http"].([]any), route("theirs"))
				})
			}, false},
		{"Istio: a field someone added inside a route is not drift", vs(route("a")),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) { spec(o)["http"].([]any)[0].(map[string]any)["timeout"] = "5s" })
			}, true},
		{"Istio: routes reordered", vs(route("a"), route("b")),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					h := spec(o)["http"].([]any)
					spec(o)["http"] = []any{h[1], h[0]}
				})
			}, false},
		{"Istio: a weight changed", vs(map[string]any{"name": "d", "route": []any{map[string]any{"destination": map[string]any{"host": "g"}, "weight": int64(50)}}}),
			func(d *unstructured.Unstructured) *unstructured.Unstructured {
				return live(d, func(o map[string]any) {
					spec(o)["http"].([]any)[0].(map[string]any)["route"].([]any)[0].(map[string]any)["weight"] = int64(70)
				})
			}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			desired := tc.desired.DeepCopy()
			desired.SetAnnotations(map[string]string{StageAnnotation: "Blue_50", ChangedAtAnnotation: "now"})
			stamp(desired)
			if got := upToDate(desired, tc.live(desired)); got != tc.want {
				t.Errorf("upToDate = %v, want %v (true: a re-run writes nothing)", got, tc.want)
			}
		})
	}
}
