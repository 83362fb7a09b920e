package engine_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/render"
)

// liveReadinessProbe is the readiness probe of Deployment name's container "model" as the API server
// stored it (nil when it has none).
func liveReadinessProbe(t *testing.T, ns, name string) map[string]any {
	t.Helper()
	d, err := env.Dynamic.Resource(kube.Deployments).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, c := range cs {
		if m := c.(map[string]any); m["name"] == config.ContainerName {
			p, _ := m["readinessProbe"].(map[string]any)
			return p
		}
	}
	t.Fatalf("Deployment %s/%s has no container %s", ns, name, config.ContainerName)
	return nil
}

// TestReadinessProbeRerunWritesNothing: against the real API server, the readiness probe mlcanary
// adds is stored exactly as rendered — the API server defaults no field of it, because every
// defaulted field (timeoutSeconds, periodSeconds, successThreshold, failureThreshold, scheme) is
// set — so a re-run of every stage that deploys writes nothing; the change line names the probe.
// With --readiness-path none, blue is stored with no probe and a re-run writes nothing too.
func TestReadinessProbeRerunWritesNothing(t *testing.T) {
	for _, path := range []string{"/", "/health/ready?full=1", config.ReadinessNone} {
		t.Run(path, func(t *testing.T) {
			f := newFixture(t)
			run := func(stage, image string) []string {
				t.Helper()
				c := f.cfg(stage, image)
				c.ReadinessPath = path
				f.rec.reset()
				res, err := f.run(c)
				if err != nil {
					t.Fatalf("%s: %v", stage, err)
				}
				_, writes := f.rec.counts()
				if stage == "Blue_0" && image == imgB && len(writes) > 0 {
					line := strings.Join(res.Changes, "\n")
					note := "readiness probe GET " + path + " on port 5001 added to container model"
					if strings.Contains(line, note) != (path != config.ReadinessNone) {
						t.Errorf("Blue_0's changes %q: want the note %q only when a probe is added", line, note)
					}
				}
				return writes
			}
			for _, s := range []struct{ stage, image string }{
				{"Blue_0", imgA}, {"Blue_50", ""}, {"Blue_100", ""}, {"Blue_Green", ""}, {"Green_100", ""}, {"Blue_0", imgB}, {"Blue_50", imgB},
			} {
				run(s.stage, s.image)
				if w := run(s.stage, s.image); len(w) != 0 {
					t.Errorf("re-run of %s wrote %v", s.stage, w)
				}
			}
			for _, v := range config.Versions {
				got := liveReadinessProbe(t, f.ns, "model-"+string(v))
				var want map[string]any
				if path != config.ReadinessNone {
					data, _ := json.Marshal(render.ReadinessProbe(path, 5001))
					_ = json.Unmarshal(data, &want)
					want = normalizeNumbers(want).(map[string]any)
				}
				if !reflect.DeepEqual(normalizeNumbers(got), normalizeNumbers(want)) {
					t.Errorf("%s's stored readiness probe = %v, want exactly the rendered %v", v, got, want)
				}
			}
		})
	}
}

// normalizeNumbers turns every number into a float64, so a probe decoded by the API machinery
// (int64) and by encoding/json (float64) compare by value.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalizeNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeNumbers(e)
		}
		return out
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return v
}
