package lock

import (
	"context"
	"fmt"
	"net/http"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/render"
)

// Leases is the resource of the lock.
var Leases = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}

// Store is every request the lock makes. Errors are the client's (apierrors tells AlreadyExists,
// Conflict and NotFound apart); Take and Release explain the others in one sentence with Explain.
type Store interface {
	// Get returns the Lease, or nil when there is none, and the Date of the API server's answer
	// (its clock, 1s resolution; zero when the answer had none).
	Get(ctx context.Context, ns, name string) (*coordinationv1.Lease, time.Time, error)
	// Watch watches the Lease from resourceVersion rv (a watch of leases with the field selector
	// metadata.name=name) until ctx ends; an error when it may not (RBAC without watch) or cannot.
	Watch(ctx context.Context, ns, name, rv string) (watch.Interface, error)
	// Create creates l; AlreadyExists when a Lease of that name exists.
	Create(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error)
	// Update replaces l as of its resourceVersion; Conflict when someone wrote it since.
	Update(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error)
	// Explain says in one sentence what refused a request of doing (kube.Client.Explain); write
	// names the object a write changes, "" for a read.
	Explain(ctx context.Context, err error, doing, ns, write string) error
}

type dynamicStore struct {
	*kube.Client
	dyn dynamic.Interface
}

// NewStore is the Store of the cluster rc points at, through kube's dynamic client (a 429 fails at
// once); it sends nothing yet.
func NewStore(rc *rest.Config) (Store, error) {
	rc = rest.CopyConfig(rc)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return dateRecorder{next: rt} })
	c, err := kube.New(rc)
	if err != nil {
		return nil, err
	}
	return dynamicStore{Client: c, dyn: c.Dynamic()}, nil
}

func (s dynamicStore) Get(ctx context.Context, ns, name string) (*coordinationv1.Lease, time.Time, error) {
	var date time.Time
	u, err := s.dyn.Resource(Leases).Namespace(ns).Get(context.WithValue(ctx, dateKey{}, &date), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, date, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	l, err := fromUnstructured(u)
	return l, date, err
}

func (s dynamicStore) Watch(ctx context.Context, ns, name, rv string) (watch.Interface, error) {
	return s.dyn.Resource(Leases).Namespace(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: rv})
}

// dateKey carries, in a request's context, where dateRecorder puts the Date of its answer.
type dateKey struct{}

// dateRecorder records the Date header of an answer (net/http sets it on every answer of the API
// server) for a request whose context asks for it: the dynamic client returns only the object.
type dateRecorder struct{ next http.RoundTripper }

func (d dateRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.next.RoundTrip(r)
	if at, ok := r.Context().Value(dateKey{}).(*time.Time); ok && err == nil {
		if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			*at = t
		}
	}
	return resp, err
}

func (s dynamicStore) Create(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	u, err := toUnstructured(l)
	if err != nil {
		return nil, err
	}
	out, err := s.dyn.Resource(Leases).Namespace(l.Namespace).Create(ctx, u, metav1.CreateOptions{FieldManager: kube.FieldManager})
	if err != nil {
		return nil, err
	}
	return fromUnstructured(out)
}

func (s dynamicStore) Update(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	u, err := toUnstructured(l)
	if err != nil {
		return nil, err
	}
	out, err := s.dyn.Resource(Leases).Namespace(l.Namespace).Update(ctx, u, metav1.UpdateOptions{FieldManager: kube.FieldManager})
	if err != nil {
		return nil, err
	}
	return fromUnstructured(out)
}

// toUnstructured and fromUnstructured go through the Lease's JSON form: render.Unstructured, as
// every object mlcanary sends, and kube.Decode, as kube.DeploymentOf (not
// runtime.DefaultUnstructuredConverter, whose first use costs milliseconds per process).
func toUnstructured(l *coordinationv1.Lease) (*unstructured.Unstructured, error) {
	typed := *l
	typed.APIVersion, typed.Kind = "coordination.k8s.io/v1", "Lease"
	u, err := render.Unstructured(&typed)
	if err != nil {
		return nil, fmt.Errorf("encoding Lease %s/%s: %w", l.Namespace, l.Name, err)
	}
	return u, nil
}

func fromUnstructured(u *unstructured.Unstructured) (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{}
	if err := kube.Decode(u, l); err != nil {
		return nil, fmt.Errorf("reading Lease %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return l, nil
}

func microTime(t time.Time) *metav1.MicroTime {
	m := metav1.NewMicroTime(t.Truncate(time.Microsecond)) // as the API server keeps it, so same() compares what was sent
	return &m
}
