package kube

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

const (
	// maxWatchBreaks is how often a watch may end within a second of opening before WaitRollout
	// only polls (a proxy that cuts streams, say).
	maxWatchBreaks = 3
	// watchSeconds asks the server to end each watch cleanly before the client's own request
	// timeout (30s) would cut it; the next wait opens a new one.
	watchSeconds = 20
)

// changes wakes WaitRollout as soon as one Deployment changes, so a rollout that finishes or fails
// is noticed at once rather than at the next poll, as `kubectl rollout status` does. `watch` is not
// among the verbs the README requires: when the credentials lack it, or the watch keeps breaking,
// changes turns itself off and WaitRollout just polls.
type changes struct {
	c        *Client
	ns, name string
	w        watch.Interface
	opened   time.Time
	breaks   int
}

// next returns a channel that receives when the Deployment changed after resourceVersion rv, or
// nil (never ready) when watching is off. A watch already open is kept.
func (ch *changes) next(ctx context.Context, rv string) <-chan watch.Event {
	if ch.w == nil && ch.breaks < maxWatchBreaks && rv != "" {
		w, err := ch.c.dyn.Resource(Deployments).Namespace(ch.ns).Watch(ctx, metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("metadata.name", ch.name).String(), ResourceVersion: rv,
			TimeoutSeconds: ptrTo(int64(watchSeconds))})
		if err != nil {
			ch.breaks = maxWatchBreaks // forbidden, or not served: poll
			return nil
		}
		ch.w, ch.opened = w, time.Now()
	}
	if ch.w == nil {
		return nil
	}
	return ch.w.ResultChan()
}

// seen handles an event received from next: a closed channel or an error event (an expired
// resourceVersion, say) ends this watch, and the next call opens a new one from a fresh read.
func (ch *changes) seen(ev watch.Event, ok bool) {
	if ok && ev.Type != watch.Error {
		return
	}
	ch.w.Stop()
	ch.w = nil
	if time.Since(ch.opened) < time.Second {
		ch.breaks++
	}
}

func (ch *changes) stop() {
	if ch.w != nil {
		ch.w.Stop()
	}
}
