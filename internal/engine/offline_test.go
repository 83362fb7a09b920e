package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/golden"
	"github.com/mlcanary/mlcanary/internal/kube"
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

// TestOfflinePlanIngressEmptyIsAuto: a Config built in code that leaves Ingress "" plans as
// --ingress auto does (the Gateway keeps Istio's default selector, with the note), never a
// Gateway selecting the add-on's prefix with nothing after the dash; --ingress external still
// selects the add-on's external gateway.
func TestOfflinePlanIngressEmptyIsAuto(t *testing.T) {
	ctx := context.Background()
	plan := func(ingress string) (string, string) {
		t.Helper()
		c := config.Default()
		c.Stage, _ = config.ParseStage("Blue_0")
		c.Image, c.DetectGateway, c.Ingress = imgB, true, ingress
		res, err := engine.Offline(ctx, c, engine.OfflineOptions{Now: offlineNow})
		if err != nil {
			t.Fatalf("--ingress %q: %v", ingress, err)
		}
		mem, err := engine.Assumed(ctx, c, engine.OfflineOptions{Now: offlineNow})
		if err != nil {
			t.Fatalf("--ingress %q: %v", ingress, err)
		}
		gw, err := mem.Get(ctx, kube.Gateways, c.Namespace, c.Gateway)
		if err != nil || gw == nil {
			t.Fatalf("--ingress %q: the assumed Gateway: %v, %v", ingress, gw, err)
		}
		sel, _, _ := unstructured.NestedStringMap(gw.Object, "spec", "selector")
		return res.Objects + "---\n" + summary.Markdown(res), fmt.Sprint(sel)
	}
	empty, emptySel := plan("")
	auto, autoSel := plan(config.IngressAuto)
	if empty != auto || emptySel != autoSel {
		t.Errorf("Ingress \"\" plans differently from auto (Gateway selector %s, auto's %s):\n%s\n--- auto:\n%s", emptySel, autoSel, empty, auto)
	}
	if emptySel != "map[istio:ingressgateway]" || !strings.Contains(empty, "the Gateway selects istio=ingressgateway, Istio's default") {
		t.Errorf("Ingress \"\": the Gateway selects %s, want Istio's default with the note:\n%s", emptySel, empty)
	}
	if _, sel := plan(config.IngressExternal); sel != "map[istio:aks-istio-ingressgateway-external]" {
		t.Errorf("--ingress external: the Gateway selects %s, want the add-on's external gateway", sel)
	}
}
