package engine_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got), run go test -update if the change is intended:\n%s", path, diff)
	}
}

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
			golden(t, "offline-"+stage+".golden", res.Objects+"---\n"+summary.Markdown(res))
		})
	}
}
