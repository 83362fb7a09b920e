package engine_test

import (
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/golden"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// TestOfflinePlanGolden renders every stage's objects and summary with no cluster.
func TestOfflinePlanGolden(t *testing.T) {
	for _, stage := range []string{"Blue_0", "Blue_50", "Blue_100", "Blue_Green", "Green_100", "Rollback"} {
		t.Run(stage, func(t *testing.T) {
			c := config.Default()
			c.Stage, _ = config.ParseStage(stage)
			c.ImagePullSecret = "acr-pull"
			if stage == "Blue_0" {
				c.Image = imgB
			}
			res, err := engine.Offline(c)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, "offline-"+stage+".golden", res.Objects+"---\n"+summary.Markdown(res))
		})
	}
}
