package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

// Rollout is a Deployment's progress as `kubectl rollout status` judges it.
type Rollout struct {
	Exists bool
	Done   bool
	// Failed is the Deployment controller's own verdict that the rollout will not finish: its
	// Progressing condition has reason ProgressDeadlineExceeded (the Deployment's
	// progressDeadlineSeconds passed without progress). kubectl rollout status fails on it at once.
	Failed bool
	// Unobserved is set when the controller has not yet observed the Deployment's latest
	// generation, so nothing is known of it yet. The API server raises the generation on any spec
	// change and, for a Deployment, on any annotation change too (kubectl annotate), so this is
	// also how an unchanged, ready Deployment looks for the moment before the controller catches up.
	Unobserved bool
	// Routable is set when the version may take traffic though its rollout is not Done: the
	// Deployment controller finished rolling out the current pod template (its Progressing
	// condition has reason NewReplicaSetAvailable, which it sets only once every wanted replica of
	// the template was available, and keeps while only the count changes), no replica of an older
	// template remains, and at least one replica is available. That is a scale-up in progress — an
	// autoscaler adding replicas whose pods pend on new nodes or a full quota — not a rollout:
	// every pod runs the current template and the ready ones serve. How many replicas a share
	// needs is the capacity check's business (plan.Capacity). A Done rollout is Routable too.
	Routable  bool
	Available int64
	Wanted    int64
	// Reason explains an unfinished or failed rollout in a few words; for a failed one it carries
	// the controller's reason and message.
	Reason string
}

// TimedOutReason is the reason the Deployment controller sets on the Progressing condition when a
// rollout exceeded its progress deadline (k8s.io/kubectl/pkg/util/deployment.TimedOutReason).
const TimedOutReason = "ProgressDeadlineExceeded"

// RolloutOf reads u's status the way kubectl's DeploymentStatusViewer does
// (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go): it converts the live object to the
// typed Deployment once (DeploymentOf) and judges that. Nothing is decided before the controller
// observed the latest generation; then a Progressing condition with reason ProgressDeadlineExceeded
// is a failure, and the rollout is done once every wanted replica is updated, no old replica remains
// and every updated replica is available. Two rules are mlcanary's own: a Deployment scaled to 0 is
// never done (nothing would answer), and a ReplicaFailure condition (the API server refusing the
// pods: quota, LimitRange, Pod Security) is a failure when no old pod remains whose removal could
// make room; kubectl would keep waiting. A nil u does not exist. Wanted is spec.replicas (1 when
// unset, as the API server defaults it). Routable (see Rollout) is judged besides: whether the
// version may take traffic while only its replica count changes.
func RolloutOf(u *unstructured.Unstructured) Rollout {
	d, err := DeploymentOf(u)
	if err != nil {
		return Rollout{Exists: true, Reason: err.Error()}
	}
	return DeploymentRollout(d)
}

// DeploymentRollout is RolloutOf for a Deployment already read as the typed struct (DeploymentOf);
// a nil d does not exist.
func DeploymentRollout(d *appsv1.Deployment) Rollout {
	if d == nil {
		return Rollout{Reason: "the Deployment does not exist"}
	}
	r := Rollout{Exists: true, Wanted: 1}
	if d.Spec.Replicas != nil {
		r.Wanted = int64(*d.Spec.Replicas)
	}
	st := d.Status
	replicas, updated := int64(st.Replicas), int64(st.UpdatedReplicas)
	r.Available = int64(st.AvailableReplicas)
	progressing := condition(d, appsv1.DeploymentProgressing)
	failure := condition(d, appsv1.DeploymentReplicaFailure)
	rfReason, rfMessage := "", failure.Message
	if failure.Status == corev1.ConditionTrue {
		rfReason = failure.Reason
	}
	old := replicas - updated
	switch {
	case r.Wanted < 1:
		r.Reason = "it is scaled to 0 replicas, so nothing would answer"
	case st.ObservedGeneration < d.Generation:
		r.Unobserved, r.Reason = true, "the controller has not seen the latest spec yet"
	case progressing.Reason == TimedOutReason:
		r.Failed = true
		r.Reason = "its rollout failed: the Deployment controller reports " + TimedOutReason
		if progressing.Message != "" {
			r.Reason += " (" + strings.TrimSuffix(oneLine(progressing.Message, 300), ".") + ")"
		}
	case rfReason != "" && old <= 0:
		// The API server refuses the ReplicaSet's pods (a ResourceQuota, a LimitRange, Pod Security
		// admission, a policy): with no old pod left whose removal could free room, they can never be
		// created. kubectl rollout status would wait out progressDeadlineSeconds (10 min); mlcanary
		// fails at once with the API server's words.
		r.Failed = true
		r.Reason = "its pods cannot be created: the Deployment controller reports ReplicaFailure " + rfReason + " (" + strings.TrimSuffix(oneLine(rfMessage, 400), ".") + ")"
	case rfReason != "":
		r.Reason = fmt.Sprintf("%d of %d replicas updated; creating pods fails while old pods remain (%s: %s)", updated, r.Wanted, rfReason, strings.TrimSuffix(oneLine(rfMessage, 400), "."))
	case updated < r.Wanted:
		r.Reason = fmt.Sprintf("%d of %d replicas updated", updated, r.Wanted)
	case replicas > updated:
		r.Reason = fmt.Sprintf("%d old replicas are still terminating", replicas-updated)
	case r.Available < updated:
		r.Reason = fmt.Sprintf("%d of %d replicas available", r.Available, updated)
	default:
		r.Done = true
	}
	r.Routable = r.Done || (r.Wanted >= 1 && !r.Unobserved && old <= 0 && r.Available > 0 &&
		progressing.Status == corev1.ConditionTrue && progressing.Reason == NewRSAvailableReason)
	return r
}

// NewRSAvailableReason is the reason the Deployment controller sets on the Progressing condition
// once a rollout completed (k8s.io/kubectl/pkg/util/deployment.NewRSAvailableReason). It keeps it
// while only the replica count changes, and replaces it (NewReplicaSetCreated, ReplicaSetUpdated)
// when the pod template changes.
const NewRSAvailableReason = "NewReplicaSetAvailable"

// condition returns d's first status condition of type typ (the zero condition when absent).
func condition(d *appsv1.Deployment, typ appsv1.DeploymentConditionType) appsv1.DeploymentCondition {
	for _, c := range d.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return appsv1.DeploymentCondition{}
}

// WaitOptions tune WaitRollout; zero values mean the defaults.
type WaitOptions struct {
	Timeout time.Duration
	// Interval is the longest time between polls (default 2s); the first polls come sooner (a
	// quarter of it, doubling), so a rollout that finishes or fails quickly is noticed quickly.
	Interval time.Duration
	// Progress is how often an unchanged progress line is repeated (default 10s); a line that says
	// something new (another reason, pods in another state) is logged when it is seen.
	Progress time.Duration
	Log      func(format string, args ...any)
	// Routable ends the wait once the Deployment is Rollout.Routable (a scale-up in progress
	// counts) rather than Done: for a version whose pod template the caller did not just change.
	Routable bool
}

// RolloutTimeout is a rollout that did not finish in time.
type RolloutTimeout struct {
	Namespace, Name string
	Timeout         time.Duration
	Reason          string
	// Pods says why pods are not running, one line each (PodProblems; empty when unknown).
	Pods []string
}

func (e *RolloutTimeout) Error() string {
	return fmt.Sprintf("Deployment %s/%s did not become ready within %s: %s%s", e.Namespace, e.Name, e.Timeout, e.Reason, podLines(e.Pods))
}

// IsRolloutTimeout reports whether err is a *RolloutTimeout.
func IsRolloutTimeout(err error) bool {
	var t *RolloutTimeout
	return errors.As(err, &t)
}

// RolloutFailed is a rollout the Deployment controller itself declared failed (Rollout.Failed):
// waiting longer would not help.
type RolloutFailed struct {
	Namespace, Name string
	// Reason carries the controller's reason and message.
	Reason string
	// Pods says why pods are not running, one line each (PodProblems; empty when unknown).
	Pods []string
}

func (e *RolloutFailed) Error() string {
	return fmt.Sprintf("Deployment %s/%s did not become ready: %s%s", e.Namespace, e.Name, e.Reason, podLines(e.Pods))
}

// IsRolloutFailed reports whether err is a *RolloutFailed.
func IsRolloutFailed(err error) bool {
	var f *RolloutFailed
	return errors.As(err, &f)
}

// podLines appends pod problems to a one-line message: "; pod a: …; pod b: …".
func podLines(pods []string) string {
	if len(pods) == 0 {
		return ""
	}
	return "; " + strings.Join(pods, "; ")
}

// WaitRollout watches and polls Deployment ns/name until its rollout is done, logging progress.
// A watch (when the credentials allow it) delivers every change, which is judged as delivered, so a
// rollout that finishes is noticed without a read after it; polls every Interval (backing off from
// a quarter of it) are the fallback and the safety net. It fails at
// once with *RolloutFailed when the Deployment controller declares the rollout failed, and with
// *RolloutTimeout (the last known reason) when the timeout passes; both name the pods' problems
// when the credentials may list pods. Every poll shares one deadline. A poll the server answers
// too busy (429) or too slowly is logged and retried after its Retry-After until that deadline.
func (c *Client) WaitRollout(ctx context.Context, ns, name string, o WaitOptions) error {
	if o.Interval == 0 {
		o.Interval = 2 * time.Second
	}
	if o.Progress == 0 {
		o.Progress = 10 * time.Second
	}
	start := time.Now()
	deadline, lastLog := start.Add(o.Timeout), start.Add(-o.Progress)
	var said progressLine
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(o.Interval+time.Second))
	defer cancel()
	watching := &changes{c: c, ns: ns, name: name}
	defer watching.stop()
	var delivered *unstructured.Unstructured // the Deployment as the watch delivered it
	for interval := max(o.Interval/4, time.Millisecond); ; interval = min(2*interval, o.Interval) {
		d, err := delivered, error(nil)
		if delivered == nil {
			d, err = c.Get(ctx, Deployments, ns, name)
		}
		delivered = nil
		if err != nil && time.Now().After(deadline) {
			return &RolloutTimeout{Namespace: ns, Name: name, Timeout: o.Timeout, Reason: "the API server did not answer in time"}
		}
		if err != nil && CauseOf(err) == CauseTimeout && ctx.Err() == nil {
			// A busy or slow server (429 with its Retry-After, a timeout) while waiting: the wait
			// goes on until its deadline, saying so, instead of failing a rollout that may finish.
			if o.Log != nil {
				o.Log("waiting for Deployment %s/%s: %v; polling again", ns, name, err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(min(busyWait(err, o.Interval), time.Until(deadline)+time.Millisecond)):
			}
			continue
		}
		if err != nil {
			return c.interrupted(ctx, ns, name, err)
		}
		r := RolloutOf(d)
		switch {
		case r.Done || o.Routable && r.Routable:
			return nil
		case r.Failed:
			return &RolloutFailed{Namespace: ns, Name: name, Reason: r.Reason, Pods: c.PodProblems(ctx, d)}
		}
		now := time.Now()
		if now.After(deadline) {
			return &RolloutTimeout{Namespace: ns, Name: name, Timeout: o.Timeout, Reason: r.Reason, Pods: c.PodProblems(ctx, d)}
		}
		if o.Log != nil {
			if line := said.next(ctx, c, d, r, now, o.Interval); line != said.last || now.Sub(lastLog) >= o.Progress {
				o.Log("waiting for Deployment %s/%s: %s (%s of %s)", ns, name, line, now.Sub(start).Round(time.Second), o.Timeout)
				lastLog, said.last = now, line
			}
		}
		rv := ""
		if d != nil {
			rv = d.GetResourceVersion()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for Deployment %s/%s: %w", ns, name, ctx.Err())
		case ev, ok := <-watching.next(ctx, rv):
			watching.seen(ev, ok)
			if u, isObject := ev.Object.(*unstructured.Unstructured); ok && isObject && (ev.Type == watch.Added || ev.Type == watch.Modified) {
				delivered = u // judged as delivered: no read between the change and the verdict
			}
		case <-time.After(min(interval, time.Until(deadline)+time.Millisecond)):
		}
	}
}

// progressLine is what WaitRollout's progress says about a rollout: its reason and, once the
// Deployment has pods of its current generation, why they are not ready (PodProblems: a container
// waiting for its image, crashing, or running but not ready by its readiness probe — a model still
// loading). So the wait for a loading model is said when it starts, not after the first Progress
// interval (issue #9: the readiness wait must be seen). The pods are listed at most once per
// max(interval, 1s), and only while the controller reports updated replicas of the generation it
// observed: a rollout that is done at once, or not yet observed, lists none.
type progressLine struct {
	last   string    // the line last logged
	pods   []string  // the pods' problems, as last listed
	listed time.Time // when they were
}

func (p *progressLine) next(ctx context.Context, c *Client, d *unstructured.Unstructured, r Rollout, now time.Time, interval time.Duration) string {
	var updated int64
	if d != nil {
		updated, _, _ = unstructured.NestedInt64(d.Object, "status", "updatedReplicas")
	}
	switch {
	case r.Unobserved || updated == 0:
		p.pods = nil
	case now.Sub(p.listed) >= max(interval, time.Second):
		p.pods, p.listed = c.PodProblems(ctx, d), now
	}
	return r.Reason + podLines(p.pods)
}

// busyWait is how long to wait before polling again after err: the server's Retry-After when it
// gave one, else interval.
func busyWait(err error, interval time.Duration) time.Duration {
	if st, ok := statusOf(err); ok && st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		return time.Duration(st.Details.RetryAfterSeconds) * time.Second
	}
	return interval
}

// interrupted tells a request that failed because the run is ending from an API failure: at the
// deadline, client-go's rate limiter fails the request with its own error ("would exceed context
// deadline") an instant before the context reports it.
func (c *Client) interrupted(ctx context.Context, ns, name string, err error) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting for Deployment %s/%s: %w", ns, name, ctx.Err())
	case <-time.After(100 * time.Millisecond):
		return err
	}
}
