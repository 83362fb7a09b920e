package kube

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
)

// rbacServer answers like kube-apiserver to a user bound by no Role in namespaces "scorin" and
// "other": 403 Forbidden in RBAC's words to everything, except the namespace "gone", which the
// user may read and which does not exist. It counts what it was asked, by method and path.
func rbacServer(t *testing.T) (*Client, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/namespaces/gone" {
			w.WriteHeader(404)
			_, _ = fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces \"gone\" not found","reason":"NotFound","details":{"name":"gone","kind":"namespaces"},"code":404}`)
			return
		}
		// A refused get names the object (details.name), as kube-apiserver's does: a refused get of
		// the namespace is not its absence.
		name := ""
		if parts := strings.Split(r.URL.Path, "/"); r.URL.Query().Get("limit") == "" {
			name = parts[len(parts)-1]
		}
		w.WriteHeader(403)
		_, _ = fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"deployments.apps \"%s\" is forbidden: User \"pipeline\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"scorin\"","reason":"Forbidden","details":{"name":%q,"group":"apps","kind":"deployments"},"code":403}`, name, name)
	}))
	t.Cleanup(srv.Close)
	c, err := New(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := asked
		asked = nil
		return out
	}
}

// TestOptionalRefusalIsExplainedOnlyWhenItIsTheError (#12 break-it K4): an RBAC refusal of an
// optional read (Optional), which the caller handles, costs no request beyond its own: the
// namespace's hint (a get of the namespace, a list of at most one VirtualService) is asked for only
// when the refusal becomes the error the user reads (a required read, or Hint), and at most once
// per namespace per Client, even for refusals that arrive together.
func TestOptionalRefusalIsExplainedOnlyWhenItIsTheError(t *testing.T) {
	ctx := context.Background()
	const unknown = `check the namespace name "scorin" first`
	c, asked := rbacServer(t)

	_, err := c.List(Optional(ctx), Deployments, "scorin")
	if got := asked(); !IsForbidden(err) || len(got) != 1 || strings.Contains(err.Error(), unknown) {
		t.Errorf("an optional list refused: %v after %d requests %q; want the refusal alone, after its own request", err, len(got), got)
	}
	if err = c.Hint(ctx, err); !strings.Contains(err.Error(), unknown) {
		t.Errorf("the optional refusal the caller fails with after all: %v; want %q", err, unknown)
	}
	if got := asked(); len(got) != 2 {
		t.Errorf("Hint sent %d requests %q, want 2 (the namespace, one VirtualService)", len(got), got)
	}
	if again := c.Hint(ctx, err); len(asked()) != 0 || again.Error() != err.Error() {
		t.Errorf("Hint of an error already hinted asked again (%d requests) or changed it: %v", len(asked()), again)
	}

	// Required reads in the same namespace: the error the user reads, hinted from what is known.
	for range 3 {
		if _, err := c.Get(ctx, Deployments, "scorin", "model-green"); !strings.Contains(fmt.Sprint(err), unknown) {
			t.Errorf("a required read refused: %v; want %q", err, unknown)
		}
	}
	if got := asked(); len(got) != 3 {
		t.Errorf("3 required reads refused in a namespace already asked about sent %d requests %q, want 3", len(got), got)
	}

	// Refusals together in a namespace not asked about yet: it is asked about once.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := c.Get(ctx, Services, "other", "model-svc-green"); !strings.Contains(fmt.Sprint(err), `check the namespace name "other" first`) {
				t.Errorf("a required read refused in namespace other: %v", err)
			}
		})
	}
	wg.Wait()
	if got := asked(); len(got) != 5+2 {
		t.Errorf("5 refusals together sent %d requests %q, want 5 and the namespace's 2", len(got), got)
	}

	// A namespace the API server says does not exist: said, once.
	for range 2 {
		if _, err := c.Get(ctx, Deployments, "gone", "model-green"); !strings.Contains(fmt.Sprint(err), `namespace "gone" does not exist`) {
			t.Errorf("a refusal in a namespace that does not exist: %v", err)
		}
	}
	if got := asked(); len(got) != 2+1 {
		t.Errorf("2 refusals in a namespace that does not exist sent %d requests %q, want 2 and the namespace's get", len(got), got)
	}
}
