package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/routing"
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
	r.Notes = append(slices.Clone(p.Notes), r.Notes...) // the plan's, then those its steps added
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

func setRouting(r *summary.Result, cfg *config.Config, routing routing.Routing) {
	r.Weights = summary.Weights{Green: routing.Weights[config.Green], Blue: routing.Weights[config.Blue]}
	r.Mirror = 0
	if routing.Mirrored() {
		r.Mirror = routing.Mirror
	}
	r.Routes = []summary.HeaderRoute{}
	for _, v := range []config.Version{config.Blue, config.Green} {
		if routing.Headers[v] {
			r.Routes = append(r.Routes, summary.HeaderRoute{Version: string(v), Header: cfg.Header, Value: string(v), Path: cfg.URIPrefix})
		}
	}
}

// statusResult describes the live state. Its Stage is derived from the live routes and
// Deployments (derivedStage), not taken from the record: when the record on the VirtualService
// agrees, the recorded name is shown (Rollback and Green_100 end alike); an unfinished stage (see
// InProgressAnnotation) adds a note naming it and the last stage that held, and the stage shown
// is that one only while the live state still is its end state, else the live one; when it does not,
// RecordedStage keeps it, Drift says how they differ, and the last change is the field manager
// that wrote the VirtualService after mlcanary (from its managedFields), when there is one.
func statusResult(cfg *config.Config, l *liveState) *summary.Result {
	r := newResult("status", cfg)
	read := l.observed()
	view := liveView{routing: read.routing, deployed: map[config.Version]bool{}, images: map[config.Version]string{},
		templates: map[config.Version]string{}, adopted: map[config.Version]bool{}}
	for _, v := range config.Versions {
		view.deployed[v] = l.deployments[v] != nil
		_, view.images[v] = scoringContainer(read.typed[v], cfg.Container)
		view.templates[v] = l.templateHash(v)
		view.adopted[v] = l.deployments[v] != nil && ownership.Adopted(l.deployments[v])
	}
	derived, agrees := derivedStage(view)
	r.Stage = derived
	setRouting(r, cfg, view.routing)
	r.Images = summary.Images{Green: view.images[config.Green], Blue: view.images[config.Blue]}
	r.Ready = summary.Ready{Green: kube.DeploymentRollout(read.typed[config.Green]).Routable, Blue: kube.DeploymentRollout(read.typed[config.Blue]).Routable}
	r.ChangedBy, r.ChangedAt = record(l.vs)
	if l.vs == nil {
		return r
	}
	ann := l.vs.GetAnnotations()
	r.RecordedStage = ann[StageAnnotation]
	if r.RecordedStage == "" {
		r.Notes = append(r.Notes, "the VirtualService carries no mlcanary record: the stage is derived from the live routes only")
		return r
	}
	inProgress, holds := ann[InProgressAnnotation], agrees(r.RecordedStage)
	if inProgress != "" {
		note := fmt.Sprintf("%s started changing traffic at %s and has not completed (it is still running, or it failed); the last stage that held is %s",
			inProgress, r.ChangedAt.Format(time.RFC3339), r.RecordedStage)
		if !holds {
			note = fmt.Sprintf("%s started changing traffic at %s and has not completed (it is still running, or it failed); the last stage that held was %s, which the live routes no longer match, so the stage shown is the live one",
				inProgress, r.ChangedAt.Format(time.RFC3339), r.RecordedStage)
		}
		r.Notes = append(r.Notes, note)
	}
	if r.Drift = drift(view, ann, derived, agrees); r.Drift == "" && holds {
		r.Stage = r.RecordedStage // the record agrees: its name (Rollback and Green_100 end alike)
	} else if r.Drift != "" {
		if who, at := lastWriter(l.vs, r.ChangedAt); who != "" {
			r.ChangedBy, r.ChangedAt = who+" (not mlcanary)", at
		}
	}
	return r
}

// failed fills the outcome of a stage that stopped part-way from what the cluster holds now, read
// again as status reads it, so the front ends' outputs say what holds — the stage the record names
// as the last that held (this one is only "in progress"), the live weights, images and readiness —
// and not the stage that failed. The changes so far stay. An interrupted run still reads (briefly):
// the outputs matter most then; if the read fails, only the changes are reported.
func (e *execution) failed(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	l, err := e.c.readRouting(ctx, e.cfg)
	if err != nil {
		e.res.Stage = ""
		return
	}
	st, r := statusResult(e.cfg, l), e.res
	r.Stage, r.RecordedStage, r.Drift = st.Stage, st.RecordedStage, st.Drift
	r.Weights, r.Images, r.Ready, r.Routes = st.Weights, st.Images, st.Ready, st.Routes
	r.ChangedBy, r.ChangedAt = st.ChangedBy, st.ChangedAt
	r.Notes = append(r.Notes, st.Notes...)
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
