package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
)

// The autoscalers mlcanary knows (README, "Autoscaling"): autoscaling/v2 HorizontalPodAutoscalers
// and KEDA's ScaledObjects (keda.sh/v1alpha1, when its CRD is installed). KEDA scales through an
// HPA it creates for each ScaledObject, labelled kedaLabel with the ScaledObject's name, so the one
// list of HPAs also says whether ScaledObjects need to be read.
var hpas, scaledObjects = kube.HorizontalPodAutoscalers, kube.ScaledObjects

const (
	kedaLabel = "scaledobject.keda.sh/name"
	// CopiedFromAnnotation names, on the autoscaler Blue_0 gives blue, the one it copies.
	CopiedFromAnnotation = "mlcanary.io/copied-from"
	// AutoscalerAnnotation is set on blue's Deployment to the kind of autoscaler Blue_0 gives blue
	// (a copy of green's): Green_100 and Rollback read the autoscalers, to remove it, only then.
	AutoscalerAnnotation = "mlcanary.io/autoscaler"
)

// needsAutoscalers reports whether a stage reads the autoscalers before it decides (observe): when
// a Deployment exists and the stage writes Deployments (Blue_0, Blue_Green: their replicas, blue's
// copy, the hand-over), or removes blue and blue's Deployment says it has mlcanary's copy
// (Green_100, Rollback). A traffic shift reads them only for a capacity shortfall (decide).
func (l *liveState) needsAutoscalers() bool {
	green, blue := l.deployments[config.Green], l.deployments[config.Blue]
	switch l.cfg.Stage.Kind {
	case config.KindBlue0, config.KindBlueGreen:
		return green != nil || blue != nil
	case config.KindGreen100, config.KindRollback:
		return blue != nil && blue.GetAnnotations()[AutoscalerAnnotation] != ""
	}
	return false
}

// autoscaler is the HPA or ScaledObject that scales one version's Deployment.
type autoscaler struct {
	gvr schema.GroupVersionResource
	obj *unstructured.Unstructured
}

func (a *autoscaler) name() string {
	return a.obj.GetKind() + " " + a.obj.GetNamespace() + "/" + a.obj.GetName()
}

// mine reports whether mlcanary created it (the copy Blue_0 gives blue): its managed-by label and no
// Helm release annotation, the rule by which any object of mlcanary's is deleted (ownership.ManagerOf).
func (a *autoscaler) mine() bool { return ownership.ManagerOf(a.obj) == "" }

// kedas reports whether a is the HorizontalPodAutoscaler KEDA made for a ScaledObject (labelled
// kedaLabel): it stands for that ScaledObject, which replaces it once read, and is never copied.
func (a *autoscaler) kedas() bool { return a.gvr == hpas && a.obj.GetLabels()[kedaLabel] != "" }

// minReplicas is the autoscaler's minimum (HPA minReplicas, KEDA minReplicaCount; 1 when unset).
func (a *autoscaler) minReplicas() int32 {
	field := "minReplicas"
	if a.gvr == scaledObjects {
		field = "minReplicaCount"
	}
	if n, found, _ := unstructured.NestedInt64(a.obj.Object, "spec", field); found {
		return int32(n)
	}
	return 1
}

// readAutoscaled lists the namespace's HorizontalPodAutoscalers (one paged list) and records the
// Deployments they scale and, per version, the autoscaler of its Deployment; when one of them is
// KEDA's, it lists the ScaledObjects too (one more list; a 404, no KEDA CRD, means none). The
// stages that write a Deployment or an autoscaler read them when a Deployment exists (observe);
// a traffic shift only for a capacity shortfall --capacity-check auto enforces only without an
// autoscaler (decide). The list is optional: a 403 (credentials without it) leaves a note, and
// then mlcanary sets the replicas of the Deployments it created and copies no autoscaler.
func (c *Client) readAutoscaled(ctx context.Context, l *liveState) error {
	if l.autoscalersRead {
		return nil
	}
	l.autoscalersRead, l.decided = true, nil
	l.autoscaled, l.autoscalers, l.listedAutoscalers = map[string]bool{}, map[config.Version]*autoscaler{}, nil
	list, err := c.cluster.List(kube.Optional(ctx), hpas, l.cfg.Namespace)
	switch {
	case refused(err):
		l.autoscaledNote = fmt.Sprintf("HorizontalPodAutoscalers in namespace %s were not checked (the credentials cannot list them; optional): the replicas of Deployments mlcanary created are set to --replicas, and blue gets no copy of green's autoscaler", l.cfg.Namespace)
		return nil
	case kube.CauseOf(err) == kube.CauseNotFound:
		return nil
	case err != nil:
		return fmt.Errorf("checking which Deployments a HorizontalPodAutoscaler scales: %w", c.hinted(ctx, err))
	}
	keda := false
	for _, h := range list {
		if h.GetLabels()[kedaLabel] != "" {
			keda = true
		}
		l.found(hpas, h)
	}
	if !keda {
		return nil
	}
	sos, err := c.cluster.List(kube.Optional(ctx), scaledObjects, l.cfg.Namespace)
	switch {
	case refused(err):
		l.autoscaledNote = fmt.Sprintf("KEDA ScaledObjects in namespace %s were not checked (the credentials cannot list them): KEDA's HorizontalPodAutoscalers stand for them, and blue gets no copy of green's", l.cfg.Namespace)
		return nil
	case kube.CauseOf(err) == kube.CauseNotFound:
		return nil
	case err != nil:
		return fmt.Errorf("checking which Deployments a KEDA ScaledObject scales: %w", c.hinted(ctx, err))
	}
	for _, so := range sos {
		l.found(scaledObjects, so)
	}
	return nil
}

// found records autoscaler obj of kind gvr when it scales a Deployment: a ScaledObject takes the
// place of the HPA KEDA made for it, which mlcanary never writes.
func (l *liveState) found(gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	l.listedAutoscalers = append(l.listedAutoscalers, &autoscaler{gvr: gvr, obj: obj})
	kind, _, _ := unstructured.NestedString(obj.Object, "spec", "scaleTargetRef", "kind")
	name, _, _ := unstructured.NestedString(obj.Object, "spec", "scaleTargetRef", "name")
	if kind != "Deployment" && (gvr != scaledObjects || kind != "") { // KEDA's default kind is Deployment
		return
	}
	l.autoscaled[name] = true
	for _, v := range config.Versions {
		if name != l.cfg.Objects[v].Deployment {
			continue
		}
		if cur := l.autoscalers[v]; cur == nil || cur.kedas() {
			l.autoscalers[v] = &autoscaler{gvr: gvr, obj: obj}
		}
	}
}

// copyRefused says why Blue_0 cannot give blue its copy of green's autoscaler (plan.Live.CopyRefused;
// "" when it can, or has none to give). The copy is named after blue's Deployment, and a name is no
// proof of ownership: an autoscaler of the copy's kind and name that mlcanary did not create (a
// platform team's HPA model-blue scaling its own model-blue-batch) is another manager's object,
// which a forced apply would take over — its target, labels and metrics rewritten, and then deleted
// with blue by Green_100 — so the stage refuses before any write (the rule #13 set for Deployments
// and Services, README "Autoscaling").
func (l *liveState) copyRefused() string {
	from := l.autoscalers[config.Green]
	if from == nil || from.kedas() {
		return ""
	}
	name := l.cfg.Objects[config.Blue].Deployment
	for _, a := range l.listedAutoscalers {
		if a.gvr != from.gvr || a.obj.GetName() != name || a.mine() {
			continue
		}
		kind, _, _ := unstructured.NestedString(a.obj.Object, "spec", "scaleTargetRef", "kind")
		target, _, _ := unstructured.NestedString(a.obj.Object, "spec", "scaleTargetRef", "name")
		if kind == "" {
			kind = "Deployment" // KEDA's default
		}
		return fmt.Sprintf("blue's autoscaler would be a copy of green's %s named %s, but %s exists and is another manager's (%s; it scales %s %s), and mlcanary never writes an object it did not create: rename or remove that %s, or name blue's Deployment otherwise (--%s)",
			from.name(), name, a.name(), ownership.ManagerOf(a.obj), kind, target, a.obj.GetKind(), config.FlagBlueDeployment)
	}
	green, blue := l.workloadOf(config.Green), l.workloadOf(config.Blue)
	if _, problems := retarget(from.gvr, specOf(from), green, blue); len(problems) > 0 {
		return fmt.Sprintf("blue's copy of green's %s would scale blue on green's load: %s. mlcanary rewrites, for blue, green's Deployment and Service names (%s, %s, also in host names and pod-name patterns) and the value %s of a version label (a key ending in version or revision, as destination_version=%q); write the reference in one of those forms, or scale on a measure both versions share",
			from.name(), strings.Join(problems, "; "), green.deployment, green.service, green.version, green.version)
	}
	return ""
}

// copyFor is the autoscaler Blue_0 gives v (blue) from a, the other version's: the same kind and
// spec (minimum, maximum, metrics or triggers, behavior), named after v's Deployment, scaling it,
// labelled as mlcanary's so that it is removed with v, annotated with what it copies and with a's
// KEDA pause (kedaSettings: a paused green gives a paused copy), and naming v's objects where a's
// metrics or triggers name the other version's (retarget). A
// ScaledObject's custom HPA name is left out (KEDA would make two ScaledObjects fight over one HPA).
func (l *liveState) copyFor(v config.Version, a *autoscaler) (*unstructured.Unstructured, int) {
	spec := specOf(a)
	rewrote, _ := retarget(a.gvr, spec, l.workloadOf(v.Other()), l.workloadOf(v)) // problems refuse Blue_0 (copyRefused)
	name := l.cfg.Objects[v].Deployment
	ref := map[string]any{"name": name}
	if a.gvr == hpas {
		ref["apiVersion"], ref["kind"] = "apps/v1", "Deployment"
	}
	spec["scaleTargetRef"] = ref
	out := &unstructured.Unstructured{Object: map[string]any{"apiVersion": a.obj.GetAPIVersion(), "kind": a.obj.GetKind(), "spec": spec}}
	out.SetName(name)
	out.SetNamespace(l.cfg.Namespace)
	out.SetLabels(map[string]string{config.ManagedByLabel: config.ManagedBy, config.AppLabel: l.cfg.App, config.VersionLabel: string(v)})
	out.SetAnnotations(kedaSettings(a.obj, map[string]string{CopiedFromAnnotation: a.name()}))
	return out, rewrote
}

// kedaPrefix starts the annotations by which KEDA's users switch a ScaledObject's scaling off or
// hold it (autoscaling.keda.sh/paused, autoscaling.keda.sh/paused-replicas: KEDA's documented
// pause): settings of the autoscaler, not metadata, so blue's copy carries green's.
const kedaPrefix = "autoscaling.keda.sh/"

// kedaSettings adds obj's KEDA annotations (kedaPrefix) to into and returns it. Other KEDA
// annotations (scaledobject.keda.sh/transfer-hpa-ownership, which would make blue's copy take an HPA
// over, validations.keda.sh/…) are green's own and not copied.
func kedaSettings(obj *unstructured.Unstructured, into map[string]string) map[string]string {
	for k, v := range obj.GetAnnotations() {
		if strings.HasPrefix(k, kedaPrefix) {
			if into == nil {
				into = map[string]string{}
			}
			into[k] = v
		}
	}
	return into
}

// settingsFor is what Blue_Green sends to v's (green's) autoscaler a: the settings of from
// (blue's), everything in its spec but what it scales, with blue's names rewritten to green's
// (retarget; the problems are what it could not rewrite). Only those fields are sent, so
// everything else on a (its labels, its scaleTargetRef) stays as its owner wrote it.
func (l *liveState) settingsFor(v config.Version, a, from *autoscaler) (*unstructured.Unstructured, int, []string) {
	spec := specOf(from)
	delete(spec, "scaleTargetRef")
	rewrote, problems := retarget(a.gvr, spec, l.workloadOf(v.Other()), l.workloadOf(v))
	out := &unstructured.Unstructured{Object: map[string]any{"apiVersion": a.obj.GetAPIVersion(), "kind": a.obj.GetKind(), "spec": spec}}
	out.SetName(a.obj.GetName())
	out.SetNamespace(a.obj.GetNamespace())
	return out, rewrote, problems
}

// specOf is a copy of a's spec (unstructured.NestedMap copies) without a ScaledObject's custom HPA
// name, which no other ScaledObject may share: what both copyFor and settingsFor start from.
func specOf(a *autoscaler) map[string]any {
	spec, _, _ := unstructured.NestedMap(a.obj.Object, "spec")
	if spec == nil {
		spec = map[string]any{}
	}
	unstructured.RemoveNestedField(spec, "advanced", "horizontalPodAutoscalerConfig", "name")
	return spec
}

// applyAutoscaler gives v its autoscaler from the other version's (plan.ApplyAutoscaler): blue a
// copy of green's, green blue's settings. It writes only when the live autoscaler differs, so a
// re-run writes nothing; an autoscaler of another kind than the one it would get from is left as
// it is, with a note.
func (e *execution) applyAutoscaler(ctx context.Context, v config.Version) error {
	from, live := e.live.autoscalers[v.Other()], e.live.autoscalers[v]
	if from == nil {
		return nil
	}
	var desired *unstructured.Unstructured
	var rewrote int
	switch {
	case from.kedas():
		// KEDA's own HPA stands for a ScaledObject that could not be read: copying it would make a
		// second autoscaler KEDA does not manage.
		e.res.Notes = append(e.res.Notes, fmt.Sprintf("%s's autoscaler was left as it is: %s's is KEDA's ScaledObject %s, which could not be read", v, v.Other(), from.obj.GetLabels()[kedaLabel]))
		return nil
	case live != nil && live.gvr != from.gvr:
		e.res.Notes = append(e.res.Notes, fmt.Sprintf("%s's autoscaler %s was left as it is: %s's is a %s", v, live.name(), v.Other(), from.obj.GetKind()))
		return nil
	case v == config.Blue:
		desired, rewrote = e.live.copyFor(v, from)
		stamp(desired) // mlcanary's own object: a setting green no longer has (a pause) is then noticed and dropped
	case live == nil:
		return nil
	default:
		var problems []string
		if desired, rewrote, problems = e.live.settingsFor(v, live, from); len(problems) > 0 {
			// green's own settings scale it on its own load; blue's would not
			e.res.Notes = append(e.res.Notes, fmt.Sprintf("%s's autoscaler %s kept its own settings: %s's %s names %s where mlcanary cannot rewrite it for %s (%s)",
				v, live.name(), v.Other(), from.name(), v.Other(), v, strings.Join(problems, "; ")))
			return nil
		}
	}
	var liveObj *unstructured.Unstructured
	if live != nil {
		liveObj = live.obj
	}
	if liveObj != nil && subset(desired.Object, liveObj.Object, true) {
		return nil
	}
	detail := "copy of " + from.name()
	if v == config.Green {
		detail = "settings of " + from.name()
	}
	if pause := kedaSettings(desired, nil); v == config.Blue && len(pause) > 0 {
		var kv []string
		for k, val := range pause {
			kv = append(kv, k+"="+val)
		}
		sort.Strings(kv)
		detail += ", paused as " + string(v.Other()) + "'s is (" + strings.Join(kv, ", ") + ")"
	}
	if rewrote > 0 {
		detail += fmt.Sprintf(", %s's names rewritten to %s's in %d %s", v.Other(), v, rewrote, map[bool]string{true: "field", false: "fields"}[rewrote == 1])
	}
	return e.write(ctx, from.gvr, desired, liveObj, detail)
}

// deleteAutoscaler removes v's autoscaler when it is mlcanary's (plan.DeleteAutoscaler).
func (e *execution) deleteAutoscaler(ctx context.Context, v config.Version) error {
	a := e.live.autoscalers[v]
	if a == nil || !a.mine() {
		return nil
	}
	if err := e.c.cluster.Delete(ctx, a.gvr, a.obj.GetNamespace(), a.obj.GetName(), e.cfg.DryRun); err != nil {
		return err
	}
	e.change("deleted", a.gvr, a.obj.GetName(), "")
	return nil
}
