package engine

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// TestWarmSharesNothingWithAStage: Warm shares nothing with a stage: run alongside the renders and conversions a stage makes
// (as a front end runs it, in its own goroutine), it leaves their results and the default
// configuration exactly as without it. With -race it also proves Warm writes nothing a stage
// reads.
func TestWarmSharesNothingWithAStage(t *testing.T) {
	stageWork := func(cfg *config.Config) (vs, deployment any) {
		u, err := render.Unstructured(render.VirtualService(cfg, routing.NewRouting(false, true, 60, 40)))
		if err != nil {
			t.Error(err)
		}
		d, err := render.Unstructured(render.Deployment(cfg, config.Green, render.DefaultTemplate(cfg, cfg.App), "registry.example/model:7"))
		if err != nil {
			t.Error(err)
		}
		typed, err := kube.DeploymentOf(d)
		if err != nil {
			t.Error(err)
		}
		return u.Object, typed
	}
	cfg := config.Default()
	cfg.Namespace = "scoring"
	wantVS, wantDeployment := stageWork(&cfg)
	before := config.Default()

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(Warm)
	}
	gotVS, gotDeployment := stageWork(&cfg)
	wg.Wait()
	if d := cmp.Diff(wantVS, gotVS); d != "" {
		t.Errorf("VirtualService rendered alongside Warm differs (-without +with):\n%s", d)
	}
	if d := cmp.Diff(wantDeployment, gotDeployment); d != "" {
		t.Errorf("Deployment converted alongside Warm differs (-without +with):\n%s", d)
	}
	if d := cmp.Diff(before, config.Default()); d != "" {
		t.Errorf("config.Default() changed (-before +after):\n%s", d)
	}
}

// TestWarmDecodesWhatAStageDecodes: Warm's live objects decode as a stage's reads do (a typo in
// them would silently leave the decoders cold).
func TestWarmDecodesWhatAStageDecodes(t *testing.T) {
	d := decoded(liveDeployment)
	if d == nil {
		t.Fatal("liveDeployment is not a Kubernetes object")
	}
	if _, err := kube.DeploymentOf(d); err != nil {
		t.Error(err)
	}
	s := decoded(liveService)
	if s == nil {
		t.Fatal("liveService is not a Kubernetes object")
	}
	if _, err := kube.ServiceOf(s); err != nil {
		t.Error(err)
	}
}
