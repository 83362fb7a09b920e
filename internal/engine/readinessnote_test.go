package engine_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// deploymentLine is the change line of Deployment name in res's changes ("" when none).
func deploymentLine(changes []string, name string) string {
	for _, c := range changes {
		if strings.HasPrefix(c, "Deployment ") && strings.Contains(c, "/"+name+" ") {
			return c
		}
	}
	return ""
}

// TestChangeLineSaysWhatTheReadinessRuleDid (issue #9): the change line says whether mlcanary added
// the readiness probe, kept the template's own, or deployed none — it said "added" only when the
// stored probe looked like mlcanary's, so a template whose own probe is GET / on 5001 (the Azure ML
// fixture's shape) read "added", and a template's other probe or --readiness-path none said
// nothing. Blue_Green says green keeps the probe of blue's template when it copies blue's pod
// template (blue was deployed from one); without, green is the default template, like blue.
func TestChangeLineSaysWhatTheReadinessRuleDid(t *testing.T) {
	azureml := filepath.Join("..", "render", "testdata", "templates", "azureml.yaml")
	for _, tc := range []struct {
		name, template, path, blue0, blueGreen string
	}{
		{"default template", "", "/", "readiness probe GET / on port 5001 added to container model", "readiness probe GET / on port 5001 added to container model"},
		{"default template, none", "", config.ReadinessNone, "no readiness probe on container model (--readiness-path none)", "no readiness probe on container model (--readiness-path none)"},
		{"template with its own probe", "azureml.yaml", "/", "readiness probe of " + azureml + " kept on container model", "readiness probe of Deployment NS/model-blue kept on container model"},
		{"template with its own probe, none", "azureml.yaml", config.ReadinessNone, "readiness probe of " + azureml + " kept on container model", "readiness probe of Deployment NS/model-blue kept on container model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach(states[3].path) // green only
			for _, s := range []struct{ stage, image, want string }{{"Blue_0", imgB, tc.blue0}, {"Blue_100", "", ""}, {"Blue_Green", "", tc.blueGreen}} {
				c := f.cfg(s.stage, s.image)
				c.ReadinessPath = tc.path
				if tc.template != "" && s.stage == "Blue_0" {
					c.Template = f.template(&c, tc.template)
				}
				res, err := f.run(c)
				if err != nil {
					t.Fatalf("%s: %v", s.stage, err)
				}
				if s.want == "" {
					continue
				}
				name := map[string]string{"Blue_0": "model-blue", "Blue_Green": "model-green"}[s.stage]
				want := strings.ReplaceAll(s.want, "NS", f.ns)
				if line := deploymentLine(res.Changes, name); !strings.HasSuffix(line, want+")") {
					t.Errorf("%s's change line %q, want it to end with %q", s.stage, line, want+")")
				}
			}
		})
	}
}

// TestAdoptedDeploymentGetsNoProbeButANote (issue #9): a green someone else installed keeps its pod
// spec — mlcanary never adds a readiness probe to it, its change line names only the image — and
// when its scoring container has no readiness probe, the stage that changes its image says so in a
// note (silent with --readiness-path none). blue, which mlcanary creates, gets the probe rule as
// with any template: added to the default template's container.
func TestAdoptedDeploymentGetsNoProbeButANote(t *testing.T) {
	for _, path := range []string{"/", config.ReadinessNone} {
		t.Run(path, func(t *testing.T) {
			f := newFixture(t)
			newD0().apply(t, f)
			note := "Deployment " + f.ns + "/model-green was not created by mlcanary and its container model has no readiness probe"
			for _, s := range []struct{ stage, image string }{{"Blue_0", imgB}, {"Blue_100", ""}, {"Blue_Green", ""}} {
				c := f.cfg(s.stage, s.image)
				c.ReadinessPath = path
				res, err := f.run(c)
				if err != nil {
					t.Fatalf("%s: %v", s.stage, err)
				}
				notes := strings.Join(res.Notes, "\n")
				if want := s.stage == "Blue_Green" && path != config.ReadinessNone; strings.Contains(notes, note) != want {
					t.Errorf("%s notes %q; want the note %q: %v", s.stage, notes, note, want)
				}
				if s.stage == "Blue_Green" {
					if line := deploymentLine(res.Changes, "model-green"); line != "Deployment "+f.ns+"/model-green updated (image "+imgB+")" {
						t.Errorf("adopted green's change line %q", line)
					}
				}
			}
			if p := liveReadinessProbe(t, f.ns, "model-green"); p != nil {
				t.Errorf("adopted green got a readiness probe: %v", p)
			}
			if p := liveReadinessProbe(t, f.ns, "model-blue"); (p != nil) != (path != config.ReadinessNone) {
				t.Errorf("blue's readiness probe with --readiness-path %s: %v", path, p)
			}
			if exists(kube.Deployments, f.ns, "model-green") != true {
				t.Fatal("green is gone")
			}
		})
	}
}
