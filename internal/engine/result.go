package engine

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/summary"
)

func newResult(action string, cfg *config.Config) *summary.Result {
	return &summary.Result{Action: action, Stage: cfg.Stage.String(), Namespace: cfg.Namespace, DryRun: cfg.DryRun, Changes: []string{}}
}

// finish fills the outcome of a completed stage.
func (e *execution) finish() {
	r, p := e.res, e.plan
	setRouting(r, e.cfg, p.Final)
	r.Images = summary.Images{Green: p.Images[config.Green], Blue: p.Images[config.Blue]}
	r.Notes = p.Notes
	if e.cfg.DryRun {
		st := e.live.facts()
		r.Ready = summary.Ready{Green: st.Versions[config.Green].Ready, Blue: st.Versions[config.Blue].Ready}
	} else {
		// Preconditions required, or the stage waited for, every version that remains.
		r.Ready = summary.Ready{Green: r.Images.Green != "", Blue: r.Images.Blue != ""}
	}
	switch {
	case !e.routedAt.IsZero(): // the record this run wrote on the VirtualService
		r.ChangedBy, r.ChangedAt = e.cfg.ChangedBy, e.routedAt
	case r.Changed && !e.cfg.DryRun:
		r.ChangedBy, r.ChangedAt = e.cfg.ChangedBy, e.now()
	default:
		r.ChangedBy, r.ChangedAt = record(e.live.vs)
	}
}

func setRouting(r *summary.Result, cfg *config.Config, routing render.Routing) {
	r.Weights = summary.Weights{Green: routing.Weights[config.Green], Blue: routing.Weights[config.Blue]}
	r.Routes = []summary.HeaderRoute{}
	for _, v := range []config.Version{config.Blue, config.Green} {
		if routing.Headers[v] {
			r.Routes = append(r.Routes, summary.HeaderRoute{Version: string(v), Header: cfg.Header, Value: string(v), Path: cfg.URIPrefix})
		}
	}
}

// statusResult describes the live state.
func statusResult(cfg *config.Config, l *liveState) *summary.Result {
	r := newResult("status", cfg)
	r.Stage = "none"
	if l.vs != nil {
		if s := l.vs.GetAnnotations()[StageAnnotation]; s != "" {
			r.Stage = s
		} else {
			r.Stage = "unknown (VirtualService not written by mlcanary)"
		}
	}
	setRouting(r, cfg, render.LiveRouting(cfg, l.vs))
	r.Images = summary.Images{Green: imageOf(l.deployments[config.Green]), Blue: imageOf(l.deployments[config.Blue])}
	r.Ready = summary.Ready{Green: kube.RolloutOf(l.deployments[config.Green]).Done, Blue: kube.RolloutOf(l.deployments[config.Blue]).Done}
	r.ChangedBy, r.ChangedAt = record(l.vs)
	return r
}

// record reads who last changed traffic, and when, from the VirtualService.
func record(vs *unstructured.Unstructured) (string, time.Time) {
	if vs == nil {
		return "", time.Time{}
	}
	ann := vs.GetAnnotations()
	at, _ := time.Parse(time.RFC3339, ann[ChangedAtAnnotation])
	return ann[ChangedByAnnotation], at
}
