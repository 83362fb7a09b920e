package kube

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Rollout is a Deployment's progress as `kubectl rollout status` judges it.
type Rollout struct {
	Exists    bool
	Done      bool
	Available int64
	Wanted    int64
	// Reason explains an unfinished rollout in a few words.
	Reason string
}

// RolloutOf reads d's status. A nil d does not exist.
func RolloutOf(d *unstructured.Unstructured) Rollout {
	if d == nil {
		return Rollout{Reason: "the Deployment does not exist"}
	}
	r := Rollout{Exists: true, Wanted: 1}
	if w, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); found {
		r.Wanted = w
	}
	st := func(k string) int64 { v, _, _ := unstructured.NestedInt64(d.Object, "status", k); return v }
	r.Available = st("availableReplicas")
	switch {
	case st("observedGeneration") < d.GetGeneration():
		r.Reason = "the controller has not seen the latest spec yet"
	case st("updatedReplicas") < r.Wanted:
		r.Reason = fmt.Sprintf("%d of %d replicas updated", st("updatedReplicas"), r.Wanted)
	case st("replicas") > st("updatedReplicas"):
		r.Reason = fmt.Sprintf("%d old replicas are still terminating", st("replicas")-st("updatedReplicas"))
	case r.Available < r.Wanted:
		r.Reason = fmt.Sprintf("%d of %d replicas available", r.Available, r.Wanted)
	default:
		r.Done = true
	}
	return r
}

// WaitOptions tune WaitRollout; zero values mean the defaults.
type WaitOptions struct {
	Timeout time.Duration
	// Interval between polls (default 2s).
	Interval time.Duration
	// Progress is how often a progress line is logged (default 10s).
	Progress time.Duration
	Log      func(format string, args ...any)
}

// WaitRollout polls Deployment ns/name until its rollout is done, logging progress, and fails
// with the last known reason when the timeout passes.
func (c *Client) WaitRollout(ctx context.Context, ns, name string, o WaitOptions) error {
	if o.Interval == 0 {
		o.Interval = 2 * time.Second
	}
	if o.Progress == 0 {
		o.Progress = 10 * time.Second
	}
	start := time.Now()
	deadline, lastLog := start.Add(o.Timeout), start.Add(-o.Progress)
	for {
		d, err := c.Get(ctx, Deployments, ns, name)
		if err != nil {
			return err
		}
		r := RolloutOf(d)
		if r.Done {
			return nil
		}
		now := time.Now()
		if now.After(deadline) {
			return fmt.Errorf("Deployment %s/%s did not become ready within %s: %s", ns, name, o.Timeout, r.Reason)
		}
		if o.Log != nil && now.Sub(lastLog) >= o.Progress {
			o.Log("waiting for Deployment %s/%s: %s (%s of %s)", ns, name, r.Reason, now.Sub(start).Round(time.Second), o.Timeout)
			lastLog = now
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for Deployment %s/%s: %w", ns, name, ctx.Err())
		case <-time.After(min(o.Interval, time.Until(deadline)+time.Millisecond)):
		}
	}
}
