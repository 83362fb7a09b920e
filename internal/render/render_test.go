package render

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/golden"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// TestBuilders: every object render builds, in the wire form the engine sends before it is merged
// with the live object (package ownership), for the documented flow's defaults: both Deployments
// (one with an image pull secret, one adopted container name), both Services, the Gateway and the
// VirtualService as Blue_0 (blue's header route only), Blue_50 and Green_100 route it.
func TestBuilders(t *testing.T) {
	c := config.Default()
	withSecret := c
	withSecret.ImagePullSecret = "acr-pull"
	objects := []struct {
		name string
		obj  any
	}{
		{"Deployment green", Deployment(&c, config.Green, nil, "registry.example/model:41")},
		{"Deployment blue (pull secret)", Deployment(&withSecret, config.Blue, nil, "registry.example/model@sha256:"+strings.Repeat("ab", 32))},
		{"Deployment green (adopted container scorer)", Deployment(&c, config.Green, DefaultTemplate(&c, "scorer"), "registry.example/model:41")},
		{"Service green", Service(&c, config.Green)},
		{"Service blue", Service(&c, config.Blue)},
		{"Gateway", Gateway(&c)},
		{"VirtualService Blue_0", VirtualService(&c, routing.NewRouting(false, true, 0, 0))},
		{"VirtualService Blue_50", VirtualService(&c, routing.NewRouting(true, true, 50, 50))},
		{"VirtualService Green_100", VirtualService(&c, routing.NewRouting(true, false, 100, 0))},
	}
	var b strings.Builder
	for _, o := range objects {
		u, err := Unstructured(o.obj)
		if err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n# " + o.name + "\n" + string(data))
	}
	golden.Assert(t, "objects.yaml.golden", b.String())
}
