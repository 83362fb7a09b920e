package plan

import (
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// TestTemplateRules: the pod template, not only the image, is what a release deployed (issue #9).
// A stage that needs blue as Blue_0 left it refuses a blue running another template than the one
// given (--pod-template), or none; Green_100 refuses to remove a blue whose template green does not
// run (Blue_Green copies it), and a green that does not run the template given. Versions without a
// template on either side, or the same hash, pass.
func TestTemplateRules(t *testing.T) {
	with := func(image, hash string) VersionState {
		s := ready(image)
		s.TemplateHash = hash
		return s
	}
	tmpl := &config.PodTemplate{Source: "deploy/model.yaml", Hash: "aaa"}
	cases := []struct {
		name, stage string
		template    *config.PodTemplate
		green, blue VersionState
		weights     [2]int
		want        string // "" when allowed
	}{
		{"Blue_50, blue runs the template given", "Blue_50", tmpl, with("m:1", "zzz"), with("m:2", "aaa"), [2]int{100, 0}, ""},
		{"Blue_50, blue runs another template", "Blue_50", tmpl, with("m:1", ""), with("m:2", "bbb"), [2]int{100, 0},
			"blue runs the pod template with hash bbb (mlcanary.io/template-hash), not the one in deploy/model.yaml (template hash aaa); Blue_0 deploys it as blue"},
		{"Blue_Green, blue runs no template", "Blue_Green", tmpl, with("m:1", ""), with("m:2", ""), [2]int{0, 100},
			"blue runs no pod template of mlcanary's (no mlcanary.io/template-hash annotation), not the one in deploy/model.yaml"},
		{"Blue_50 without --pod-template", "Blue_50", nil, with("m:1", ""), with("m:2", "bbb"), [2]int{100, 0}, ""},
		{"Green_100, green runs blue's template", "Green_100", nil, with("m:2", "aaa"), with("m:2", "aaa"), [2]int{0, 100}, ""},
		{"Green_100, green runs another template", "Green_100", nil, with("m:2", "old"), with("m:2", "aaa"), [2]int{0, 100},
			"green runs the pod template with hash old (mlcanary.io/template-hash) but blue runs the pod template with hash aaa (mlcanary.io/template-hash), so removing blue would drop the new pod template; Blue_Green puts blue's whole pod template on green"},
		{"Green_100 after blue is gone, green runs another template than given", "Green_100", tmpl, with("m:2", "old"), VersionState{}, [2]int{100, 0},
			"green runs the pod template with hash old (mlcanary.io/template-hash), not the one in deploy/model.yaml (template hash aaa)"},
		{"Rollback ignores templates", "Rollback", tmpl, with("m:1", "old"), with("m:2", "aaa"), [2]int{50, 50}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Stage, _ = config.ParseStage(tc.stage)
			c.Template = tc.template
			live := Live{Versions: map[config.Version]VersionState{config.Green: tc.green, config.Blue: tc.blue},
				Routing: routing.NewRouting(true, tc.blue.Deployed, tc.weights[0], tc.weights[1])}
			_, err := Make(&c, live)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
