package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/golden"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// offlineNow is the change record's time in offline plans under test.
var offlineNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// TestOfflinePlanGolden renders every stage's objects and summary with no cluster.
func TestOfflinePlanGolden(t *testing.T) {
	for _, stage := range []string{"Blue_0", "Shadow_10", "Blue_50", "Blue_100", "Blue_Green", "Green_100", "Rollback"} {
		t.Run(stage, func(t *testing.T) {
			c := config.Default()
			c.Stage, _ = config.ParseStage(stage)
			c.ImagePullSecret = "acr-pull"
			if stage == "Blue_0" {
				c.Image = imgB
			}
			res, err := engine.Offline(context.Background(), c, engine.OfflineOptions{Now: offlineNow})
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, "offline-"+stage+".golden", res.Objects+"---\n"+summary.Markdown(res))
		})
	}
}

// TestOfflinePlanBindsToAGatewayInAnotherNamespace: with --gateway NAMESPACE/NAME the offline plan
// binds the VirtualService to that Gateway and renders no Gateway of its own.
func TestOfflinePlanBindsToAGatewayInAnotherNamespace(t *testing.T) {
	c := config.Default()
	c.Stage, _ = config.ParseStage("Blue_50")
	c.Gateway = "istio-system/public-gateway"
	res, err := engine.Offline(context.Background(), c, engine.OfflineOptions{Now: offlineNow})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.Objects, "kind: Gateway") || !strings.Contains(res.Objects, "  gateways:\n  - istio-system/public-gateway\n") {
		t.Errorf("objects:\n%s", res.Objects)
	}
	for _, ch := range res.Changes {
		if strings.Contains(ch, "Gateway") {
			t.Errorf("offline plan changes a Gateway: %q", ch)
		}
	}
}
