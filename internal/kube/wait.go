package kube

import (
	"context"
	"errors"
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
	case r.Wanted < 1:
		r.Reason = "it is scaled to 0 replicas, so nothing would answer"
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

// RolloutTimeout is a rollout that did not finish in time.
type RolloutTimeout struct {
	Namespace, Name string
	Timeout         time.Duration
	Reason          string
}

func (e *RolloutTimeout) Error() string {
	return fmt.Sprintf("Deployment %s/%s did not become ready within %s: %s", e.Namespace, e.Name, e.Timeout, e.Reason)
}

// IsRolloutTimeout reports whether err is a *RolloutTimeout.
func IsRolloutTimeout(err error) bool {
	var t *RolloutTimeout
	return errors.As(err, &t)
}

// WaitRollout polls Deployment ns/name until its rollout is done, logging progress, and fails
// with the last known reason when the timeout passes. Every poll shares one deadline.
func (c *Client) WaitRollout(ctx context.Context, ns, name string, o WaitOptions) error {
	if o.Interval == 0 {
		o.Interval = 2 * time.Second
	}
	if o.Progress == 0 {
		o.Progress = 10 * time.Second
	}
	start := time.Now()
	deadline, lastLog := start.Add(o.Timeout), start.Add(-o.Progress)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(o.Interval+time.Second))
	defer cancel()
	for {
		d, err := c.Get(ctx, Deployments, ns, name)
		if err != nil && time.Now().After(deadline) {
			return &RolloutTimeout{Namespace: ns, Name: name, Timeout: o.Timeout, Reason: "the API server did not answer in time"}
		}
		if err != nil {
			return err
		}
		r := RolloutOf(d)
		if r.Done {
			return nil
		}
		now := time.Now()
		if now.After(deadline) {
			return &RolloutTimeout{Namespace: ns, Name: name, Timeout: o.Timeout, Reason: r.Reason}
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
