package render

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/golden"
)

// ownProbe is a template's own readiness probe (Azure ML's documented shape, on another path): it
// must be kept exactly, every field.
func ownProbe() *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
		InitialDelaySeconds: 10, PeriodSeconds: 10, TimeoutSeconds: 2, FailureThreshold: 30,
	}
}

func podSpec(containers ...corev1.Container) corev1.PodSpec {
	return corev1.PodSpec{Containers: containers}
}

// TestWithReadinessProbe: the table of what the readiness rule does to a pod spec, and that the
// input spec is never changed (the function is pure).
func TestWithReadinessProbe(t *testing.T) {
	model := corev1.Container{Name: "model", Image: "m:1"}
	withOwn := model
	withOwn.ReadinessProbe = ownProbe()
	withExec := model
	withExec.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/ready"}}}}
	sidecar := corev1.Container{Name: "sidecar", Image: "s:1"}
	cases := []struct {
		name, container, path string
		spec                  corev1.PodSpec
		want                  *corev1.Probe // the scoring container's probe afterwards
		added                 bool
	}{
		{"no probe: added on the default path", "model", "/", podSpec(model), ReadinessProbe("/", 5001), true},
		{"no probe: added on a custom path", "model", "/v1/ready?full=1", podSpec(model), ReadinessProbe("/v1/ready?full=1", 5001), true},
		{"none: a probe-less container is kept as it is", "model", config.ReadinessNone, podSpec(model), nil, false},
		{"empty path: nothing to probe", "model", "", podSpec(model), nil, false},
		{"own HTTP probe kept exactly", "model", "/", podSpec(withOwn), ownProbe(), false},
		{"own exec probe kept exactly", "model", "/", podSpec(withExec), withExec.ReadinessProbe, false},
		{"own probe kept with none too", "model", config.ReadinessNone, podSpec(withOwn), ownProbe(), false},
		{"only the named container gets it", "model", "/", podSpec(sidecar, model), ReadinessProbe("/", 5001), true},
		{"no container of that name: nothing added", "scorer", "/", podSpec(model), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.spec.DeepCopy()
			out, added := WithReadinessProbe(tc.spec, tc.container, tc.path, 5001)
			if !equality.Semantic.DeepEqual(&tc.spec, before) {
				t.Fatalf("the input spec was changed")
			}
			if (added != nil) != tc.added {
				t.Fatalf("added = %v, want added: %v", added, tc.added)
			}
			var got *corev1.Probe
			for _, c := range out.Containers {
				if c.Name == "model" {
					got = c.ReadinessProbe
				} else if c.ReadinessProbe != nil {
					t.Errorf("container %s got a probe: %+v", c.Name, c.ReadinessProbe)
				}
			}
			if !equality.Semantic.DeepEqual(got, tc.want) {
				t.Fatalf("probe = %+v, want %+v", got, tc.want)
			}
			note := ReadinessNote(tc.spec, "deploy/model.yaml", tc.container, tc.path, 5001)
			want := map[bool]string{true: " added to container ", false: ""}[tc.added]
			switch {
			case tc.container == "scorer":
				want = ""
			case !tc.added && tc.want != nil:
				want = "readiness probe of deploy/model.yaml kept on container model"
			case !tc.added:
				want = "no readiness probe on container model (--readiness-path none)"
			}
			if want == "" && note != "" || want != "" && !strings.Contains(note, want) || tc.added && strings.Contains(note, "kept") {
				t.Fatalf("ReadinessNote = %q, want %q", note, want)
			}
		})
	}
}

// TestReadinessProbeSetsEveryDefaultedField: the API server defaults a probe's timeoutSeconds (1),
// periodSeconds (10), successThreshold (1), failureThreshold (3) and httpGet.scheme (HTTP); the
// probe sets each itself, so what is stored is what was rendered (a re-run writes nothing: proved
// against the API server by the engine's TestReadinessProbeRerunWritesNothing).
func TestReadinessProbeSetsEveryDefaultedField(t *testing.T) {
	p := ReadinessProbe("/", 5001)
	if p.TimeoutSeconds == 0 || p.PeriodSeconds == 0 || p.SuccessThreshold == 0 || p.FailureThreshold == 0 || p.HTTPGet.Scheme == "" {
		t.Fatalf("a defaulted field is left to the API server: %+v", p)
	}
	if p.HTTPGet.Port != intstr.FromInt32(5001) || p.HTTPGet.Host != "" || len(p.HTTPGet.HTTPHeaders) > 0 {
		t.Fatalf("probe targets %+v, want the pod's own port 5001", p.HTTPGet)
	}
}

// TestReadinessGolden: the probe as it is written, and the note the plan prints, for the default and
// a custom path.
func TestReadinessGolden(t *testing.T) {
	var b strings.Builder
	for _, path := range []string{"/", "/health/ready"} {
		in := podSpec(corev1.Container{Name: "model", Image: "registry.example/model:42"})
		out, _ := WithReadinessProbe(in, "model", path, 5001)
		data, err := yaml.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n# --readiness-path " + path + ": " + ReadinessNote(in, "", "model", path, 5001) + "\n" + string(data))
	}
	golden.Assert(t, "readiness.yaml.golden", b.String())
}
