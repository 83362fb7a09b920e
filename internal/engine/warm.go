package engine

import (
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// Warm does, on objects of its own, the work a process does once per Go type the first time it
// decodes or renders one: encoding/json builds each type's codec on first use (for a Deployment,
// every type a pod spec holds), and Istio's API types, which encode and decode through protojson,
// first build their protobuf message descriptors. A stage does that work between its reads'
// answers and its first write, on its critical path (about 4 ms of CPU of a 45 ms Blue_50 on
// `make bench-stage`'s API server); a front end starts Warm in its own goroutine once the inputs
// are read, so the work is done while the kubeconfig is loaded and the first requests are in
// flight, when the process's CPU is otherwise idle. It sends nothing, shares no state with a
// stage (the codecs' caches are safe for concurrent use) and returns nothing: a failure here
// only means a stage pays the cost itself.
func Warm() {
	cfg := config.Default()
	r := routing.NewRouting(true, true, 50, 50)
	if vs, err := render.Unstructured(render.VirtualService(&cfg, r)); err == nil {
		_ = ownership.CheckVirtualService(&cfg, vs)
	}
	if gw, err := render.Unstructured(render.Gateway(&cfg)); err == nil {
		_ = ownership.CheckGateway(gw)
	}
	tmpl := render.DefaultTemplate(&cfg, cfg.App)
	if d, err := render.Unstructured(render.Deployment(&cfg, config.Blue, tmpl, "registry.example/model:1")); err == nil {
		_, _ = kube.DeploymentOf(d)
	}
	if s, err := render.Unstructured(render.Service(&cfg, config.Blue)); err == nil {
		_, _ = kube.ServiceOf(s)
	}
}
